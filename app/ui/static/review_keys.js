() => {
  // The review queue's keys: j = next record, k = previous (not while typing in a field).
  document.addEventListener("keydown", (e) => {
    const t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName))) return;
    const id = { j: "llamo-review-next", k: "llamo-review-prev" }[e.key];
    const btn = id && document.getElementById(id);
    if (btn && btn.offsetParent !== null) { e.preventDefault(); btn.click(); }
  });
}
