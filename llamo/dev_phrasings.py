"""Development phrasings: used only to choose between trained checkpoints, never trained on and not the test set; written apart from the training templates and the held-out test phrasings."""

from __future__ import annotations

ACTION = [
    "Coach here: what movement is the athlete working on in this clip?",
    "so what's he up to in this one?",
    "Describe the activity the subject carries out in this mocap take.",
    "From a rehab point of view, which exercise is the patient doing here?",
    "what kind of move is she pulling off?",
    "Can you put a name to the motion they're performing?",
]

COUNT = [
    "How many times does he do it, start to finish?",
    "Count the reps for me, please.",
    "What's the total number of cycles the subject completes in this take?",
    "For my notes: what is the patient's repetition tally on this exercise?",
    "quick one: how many did she get through?",
    "Tally it up for me: how many reps does the athlete manage?",
]

ARM_SIDE = [
    "Which arm is she using, left, right, or both?",
    "Is it the left arm, the right arm, or both arms doing the work?",
    "For the record: which upper limb does the subject move, left, right, or both?",
    "is that his left arm, his right, or both of them?",
    "Which arm is the patient moving during the exercise?",
    "Is the athlete working one arm or both, and if just one, which side?",
]

LEG_SIDE = [
    "Is the movement coming from her left leg or her right?",
    "Left leg, right leg, or both legs: which one moves?",
    "Which lower limb does the subject use in this clip: left, right, or both?",
    "Is the patient moving the left leg, the right, or both together?",
    "which leg is she using? left, right... both?",
    "Coach question: which leg is the athlete driving with, left, right, or both?",
]

DIRECTION = [
    "Where is he headed: forward, back, or off to one side?",
    "Does the subject travel forward, backward, sideways, or turn around?",
    "which way are they moving?",
    "Is the patient stepping forwards or backwards, or drifting left or right?",
    "Tell me the direction of travel: ahead, back, left, right, or a turn?",
    "Does she keep going straight, or does she veer or turn at some point?",
]

WHEN = [
    "When does he hit the {ordinal} rep?",
    "Roughly what timestamp is the {ordinal} repetition at?",
    "Give me the time window of the {ordinal} rep in the clip.",
    "At which point in the sequence does the subject perform the {ordinal} repetition?",
    "when does the {ordinal} rep come up?",
    "Physio note: at what moment does the patient complete the {ordinal} repetition?",
]

STYLE = [
    "Does he look worn out, full of energy, elderly, or just normal?",
    "How would you rate the subject's movement: fatigued, energetic, aged, or neutral?",
    "is she tired or pumped up? or just moving normally?",
    "Does the patient move like an older adult, a tired one, a lively one, or typically?",
    "Coach check: does the athlete seem gassed, fired up, or just ordinary?",
    "What's the vibe of the movement: sluggish, lively, old, or nothing special?",
]

PLAIN = [
    "What's 14 times 6?",
    "Which river flows through Cairo?",
    "How long should I boil an egg for a runny yolk?",
    "What does the word 'ephemeral' mean?",
    "How many days are in a leap year?",
    "Which planet is closest to the sun?",
]

# general questions worded like motion ones (a side, a count, a time), asked with a one-sided
# clip attached: a model that reads the words, not the question, answers them about the clip
PLAIN_WORDED = [
    "Which hand do most people write with, left or right?",
    "In Japan, do cars drive on the left or the right side of the road?",
    "Which side of the body is the heart on?",
    "Which hemisphere of the brain controls the left arm?",
    "How many legs does a spider have?",
    "How many players does a football team have on the pitch?",
    "How many bones are there in the human hand?",
    "When did the Berlin Wall fall?",
]
