"""Held-out phrasings for the real-motion evaluation, written apart from the training templates.

None of these appears in `llamo.data.templates` or `llamo.data.real_questions`, and they were
written separately, in other registers (a coach's shorthand, a patient's plain words, a
researcher's terms), not as edits of training phrasings. Nothing is ever tuned against them:
they are the test set. The development set is the `val` split of the training generators.
"""

from __future__ import annotations

COUNT = [
    "Quick one: how many reps was that?",
    "I lost count. How many did she manage?",
    "Give me the rep total for this set.",
    "How often is the exercise repeated here?",
    "Number of repetitions performed in this recording?",
    "Could you count the reps for me?",
]
ACTION = [
    "What's going on here?",
    "Which exercise or activity is being performed in this recording?",
    "In plain words, what is this person up to?",
    "What would you call this movement?",
    "What activity does the recording capture?",
]
ARM_SIDE = [
    "Is it mainly the left arm or the right arm that's working here?",
    "Which arm is doing the work?",
    "Left or right: which arm does the person mostly use?",
    "Which upper limb is most active, left or right?",
    "From the person's own point of view, which arm moves?",
]
LEG_SIDE = [
    "Which leg does the person kick with?",
    "Is the kicking leg the left one or the right one?",
    "Which lower limb is most active, left or right?",
    "Left or right: which leg is doing the work?",
    "From the person's own point of view, which leg swings?",
]
DIRECTION = [
    "Which way does the person travel, relative to where they face?",
    "Are they heading forwards, backwards or off to one side?",
    "Relative to their starting orientation, where do they move?",
    "Does the person go ahead, back up, or move sideways?",
    "In terms of their own body, which direction do they cover ground in?",
]
# General questions a user may ask with a clip attached; the answer should be ordinary chat.
PLAIN = [
    "Which planet is known as the red planet?",
    "Suggest a name for a small bakery.",
    "In which ocean is Madagascar?",
    "What is the tallest mountain in Africa?",
    "Who composed the Four Seasons?",
    "How do you say thank you in Italian?",
    "What is 9 squared?",
    "What rhymes with 'moon'?",
    "Which is heavier, a kilo of feathers or a kilo of iron?",
    "What does a librarian do?",
]
# A first turn before the count, to check the count holds later in a conversation.
FIRST_TURN = "Describe what you see in a sentence."
