/* The time cursor, in the browser: seek the overlay video, show the skeleton figure's nearest
   slider step (restyle with that step's args + make it active) and draw a line across the
   kinematics plots, so no figure travels per move. Gradio runs this as the cursor's event js. */
(t, s) => {
  const v = document.querySelector('#llamo-overlay video');
  if (v && isFinite(t)) { v.currentTime = t; }
  const gd = document.querySelector('#llamo-skeleton .js-plotly-plot');
  const P = window.Plotly;
  if (P && gd && gd.layout && gd.layout.sliders && gd.layout.sliders.length) {
    const steps = gd.layout.sliders[0].steps;
    let best = 0, gap = Infinity;
    steps.forEach((st, i) => {
      const p = String(st.label).split(':');
      const d = Math.abs(Number(p[0]) * 60 + Number(p[1]) - t);
      if (d < gap) { gap = d; best = i; }
    });
    if (steps.length) {
      P.restyle(gd, steps[best].args[0], steps[best].args[1]);
      P.relayout(gd, {'sliders[0].active': best});
    }
  }
  const kin = document.querySelector('#llamo-kinematics .js-plotly-plot');
  if (P && kin && kin.layout && isFinite(t)) {
    const shapes = (kin.layout.shapes || []).filter(x => x.name !== 'llamo-cursor');
    shapes.push({type: 'line', name: 'llamo-cursor', xref: 'x', yref: 'paper', x0: t, x1: t, y0: 0, y1: 1,
                 line: {color: 'black', width: 1, dash: 'dot'}});
    P.relayout(kin, {shapes: shapes});
  }
  return [t, s];
}
