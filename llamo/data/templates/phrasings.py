"""Question phrasings for each kind, and which of them are held out.

Every question kind has several phrasings. The LAST phrasing of each kind (the last two for
"unknown") is held out: the test split asks only held-out phrasings, train and validation never
see them, so test accuracy is not phrase memorisation. The "extended" set adds training
phrasings only, never a held-out one.
"""

from __future__ import annotations

from llamo.data.templates.paraphrases import PARAPHRASES

KINDS = ("action", "side", "direction", "before", "after", "order", "count", "tempo", "caption", "unknown")

Q: dict[str, list[str]] = {
    "action": [
        "What is the person doing?",
        "What action is this?",
        "Which movement does the person perform?",
        "Describe the action in a few words.",
        "What kind of exercise or movement is shown?",
        "Can you tell what this person is doing?",
        "Tell me what the person is doing.",
        "What movement do you see?",
        "What exercise is this?",
        "Identify the action.",
        "What is going on in this motion?",
        "Which activity is this person busy with?",
        "Say what the person does here.",
        "What is this motion?",
        "Name the activity in this clip.",
    ],
    "side": [
        "Which {limb} does the person use for the {nouns}?",
        "Are the {nouns} done with the left or the right {limb}?",
        "Which {limb} performs the {nouns}?",
        "Which side of the body do the {nouns} come from?",
        "Left {limb} or right {limb} for the {nouns}?",
        "With which {limb} are the {nouns} performed?",
        "Do the {nouns} use the left {limb}, the right {limb} or both?",
        "Is it the left or the right {limb} doing the {nouns}?",
        "Which {limb} is used for the {nouns}?",
        "For the {nouns}, which {limb} moves?",
        "On which side are the {nouns}?",
        "Say which {limb} the person uses for the {nouns}.",
        "The {nouns}: left {limb} or right {limb}?",
        "Tell me which {limb} does the {nouns}.",
    ],
    "direction": [
        "Which direction is the person {verb}?",
        "In which direction does the person go while {verb}?",
        "Is the person {verb} forward, backward or sideways?",
        "Relative to their own body, which way are they {verb}?",
        "Where is the person {verb} to?",
        "Tell me the direction the person is {verb} in.",
        "Is the person {verb} forward, backward, to the left or to the right?",
        "Which way does the person head while {verb}?",
        "Seen from the person, in which direction are they {verb}?",
        "What direction of travel do you see while the person is {verb}?",
        "Towards which side is the person {verb}?",
        "Say which direction the person is {verb}.",
        "Which way is the person {verb}?",
    ],
    "before": [
        "What does the person do before {x}?",
        "What happens right before {x}?",
        "Before {x}, what is the person doing?",
        "Which action comes just before {x}?",
        "Tell me what the person does before {x}.",
        "What did the person do prior to {x}?",
        "What is the person doing just before {x} starts?",
        "Which movement leads into {x}?",
        "Right before {x}, what action do you see?",
        "What precedes {x}?",
    ],
    "after": [
        "What does the person do after {x}?",
        "What happens right after {x}?",
        "After {x}, what does the person do?",
        "Which action follows {x}?",
        "Tell me what the person does after {x}.",
        "What does the person do once {x} is over?",
        "What is the next action after {x}?",
        "Following {x}, what happens?",
        "Which movement comes after {x}?",
        "What comes next after {x}?",
    ],
    "order": [
        "Does the person do {x} before {y}?",
        "Do {x} happen before {y}?",
        "Does {x} come earlier than {y}?",
        "Is {x} earlier than {y}?",
        "Tell me whether {x} happen before {y}.",
        "Do we see {x} first and then {y}?",
        "Did {x} happen before {y}?",
    ],
    "count": [
        "How many {noun} does the person do?",
        "Count the {noun}.",
        "How many {noun} are there?",
        "How many times does the person repeat the movement?",
        "What is the number of {noun}?",
        "How many {noun} can you count in this clip?",
        "Tell me how many {noun} the person does.",
        "How many {noun} in total?",
        "Count how many {noun} you see.",
        "What is the total number of {noun}?",
        "How many repetitions are there?",
        "Give me the count of {noun}.",
    ],
    "tempo": [
        "How fast is the person moving?",
        "Is the movement slow or fast?",
        "What is the pace of the movement?",
        "Describe the speed of the motion.",
        "Tell me how quick the movement is.",
        "Is the person moving slowly, at a moderate pace or quickly?",
        "How quick is the motion?",
        "What speed does the person move at?",
        "At what tempo does the person move?",
    ],
    "caption": [
        "Describe the motion.",
        "Give a short caption for this motion.",
        "Summarise what happens in the clip.",
        "What happens in this motion sequence?",
        "Tell me what happens in this clip.",
        "Describe the movement in one sentence.",
        "Caption this motion.",
        "Write one sentence describing the movement.",
    ],
    "unknown": [
        "What color is the person's shirt?",
        "How old is the person?",
        "What is the person's name?",
        "What music is playing?",
        "Is the person indoors or outdoors?",
        "What is the person thinking about?",
        "Tell me the colour of the person's hair.",
        "What is the person wearing?",
        "Where does this take place?",
        "What time of day is it?",
        "Is the person happy or sad?",
        "What language does the person speak?",
        "How tall is the person in centimetres?",
        "What is in the background?",
        "Is anyone else in the room?",
        "What is the person's job?",
        "What is the weather like?",
        "What brand of shoes is the person wearing?",
    ],
}
HELD_OUT = {k: 1 for k in Q}  # the last phrasing of each kind
HELD_OUT["unknown"] = 2


# The "extended" question set adds these training phrasings (never a held-out one) and asks tempo
# and off-topic questions more often. The default checkpoint's second instruct pass trains on it:
# after the first pass alone, unfamiliar tempo words and off-topic questions got motion answers.
Q_EXTENDED: dict[str, list[str]] = {
    "before": [  # "precede" was in no training phrasing: "What precedes X?" got "The right leg."
        "Which action preceded {x}?",
        "Name the movement that preceded {x}.",
        "Tell me the action preceding {x}.",
    ],
    "tempo": [
        "Is the tempo slow, moderate or fast?",
        "What is the rhythm of the movement like?",
        "Does the person keep a slow or a quick rhythm?",
        "Describe the tempo of the repetitions.",
        "How rapid are the movements?",
        "Is this done at a leisurely or a brisk pace?",
    ],
    "unknown": [
        "What colour are the walls?",
        "What does the person's face look like?",
        "Which city is this in?",
        "What is the person holding?",
        "What is the person saying?",
        "Is the person married?",
        "What kind of floor is it?",
        "What is the person's favourite food?",
        "Which sport team does the person support?",
        "What colour are the person's trousers?",
        "Is there a dog nearby?",
        "What is written on the wall?",
    ],
}
# "broad" adds the paraphrase bank (templates/paraphrases.py): hundreds of training wordings in
# many registers, because real users' wordings, not the motion, were what the model missed.
QUESTION_SETS = ("standard", "extended", "broad")


def phrasings(kind: str, split: str, questions: str = "standard") -> list[str]:
    """The phrasings a split may ask: only the held-out ones for test, never them otherwise."""
    items = Q[kind]
    n = HELD_OUT[kind]
    if split == "test":
        return items[-n:]
    extra = Q_EXTENDED.get(kind, []) if questions in ("extended", "broad") else []
    return items[:-n] + extra + (PARAPHRASES.get(kind, []) if questions == "broad" else [])
