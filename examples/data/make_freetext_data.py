#!/usr/bin/env python3
"""Generate the project's own free-text contrast-pair datasets (examples/data/freetext/*.jsonl).

Every sentence fragment below was written for the w2s project; nothing is copied or paraphrased
from ../shared/datasets or any public dataset. The script composes {"prompt", "pairs": [{"positive",
"negative", "template"}, ...]} items from hand-written topics, prompt framings and reply templates,
with a fixed seed, so that the output is byte-for-byte reproducible:

    python3 examples/data/make_freetext_data.py            # writes freetext/*.jsonl and persona_prompts.json
    python3 examples/data/make_freetext_data.py --check    # regenerates in memory and validates only

The prompt is the user turn; each reply is one short sentence that follows the assistant header
directly. The positive reply shows the behaviour, the negative reply does not; both replies of a
pair have about the same number of words (within 2), so that reply length cannot explain a
measured difference.

Every prompt gets PAIRS_PER_PROMPT reply pairs, each made from a different reply template of the
behaviour (a template is a (positive frame, negative frame) pair; "template" names it as
"<behaviour>-tNN", NN its index in the behaviour's template list). Templates are assigned so that
each is used about equally often over a file and any two of them meet in a few prompts, which lets
the evaluation separate what the prompt and what the reply template explain (prompts x templates).

Only the Python standard library is used.
"""
import argparse
import json
import os
import sys
import random

SEED = 20260415
HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "freetext")

N_ITEMS = 352          # items (prompts) generated per behaviour
MIN_ITEMS = 320        # what --check requires
PAIRS_PER_PROMPT = 4   # reply pairs per prompt, each from a different template
MIN_WORDS, MAX_WORDS = 6, 16          # words in one reply
MAX_PAIR_DIFF = 3                     # |words(positive) - words(negative)| allowed by --check
GEN_PAIR_DIFF = 2                     # ... and the tighter bound the generator aims for
MAX_MEAN_DIFF = 1.0                   # |mean words(positive) - mean words(negative)| over a file
MAX_FIRST_WORD_SHARE = 0.25           # no first word starts more than this share of a side's replies
MIN_PROMPT_WORDS, MAX_PROMPT_WORDS = 6, 25
MAX_BYTES = 500_000
MIN_TEMPLATES = 20                    # reply templates (positive/negative frame pairs) per behaviour
MIN_TEMPLATE_USES = 30                # prompts each template is used in, required by --check


def cap(s):
    return s[:1].upper() + s[1:]


def words(s):
    return len(s.split())


def first_word(s):
    return s.split()[0].strip(",;:.!?").lower()


class Picker:
    """Cycles through a shuffled pool so that entries are used evenly, reshuffling each round.

    `ok` filters the candidates; when no entry left in the current round passes, any entry of the
    whole pool that passes is taken (the first in a fresh shuffle)."""

    def __init__(self, pool, rng):
        self.pool = list(pool)
        self.rng = rng
        self.queue = []

    def __call__(self, ok=lambda x: True):
        if not self.queue:
            self.queue = list(self.pool)
            self.rng.shuffle(self.queue)
        for i, x in enumerate(self.queue):
            if ok(x):
                return self.queue.pop(i)
        rest = list(self.pool)
        self.rng.shuffle(rest)
        for x in rest:
            if ok(x):
                return x
        return None


class LengthBalance:
    """Keeps each pair's replies within GEN_PAIR_DIFF words and the running sum of the
    differences within +-3, so the mean lengths of the two sides stay within a fraction of a word."""

    def __init__(self):
        self.cum = 0

    def fits(self, pos, neg):
        wp, wn = words(pos), words(neg)
        return (MIN_WORDS <= wp <= MAX_WORDS and MIN_WORDS <= wn <= MAX_WORDS
                and abs(wp - wn) <= GEN_PAIR_DIFF and abs(self.cum + wp - wn) <= 3)

    def add(self, pos, neg):
        self.cum += words(pos) - words(neg)


def make_prompts(topics, framings, rng, n, render, contexts=(), context_rate=0.0, plain=(), after=False):
    """Assigns distinct framings to each topic (each topic used n/len(topics) times, the rest
    once more), framings used evenly. Returns [(topic, prompt)] with every prompt distinct.
    `plain` names the framings that may get one of `contexts` in front (or after, with `after`),
    as long as the prompt stays within MAX_PROMPT_WORDS."""
    per_topic = [n // len(topics)] * len(topics)
    extra = list(range(len(topics)))
    rng.shuffle(extra)
    for i in extra[: n - sum(per_topic)]:
        per_topic[i] += 1
    pick_framing = Picker(framings, rng)
    pick_context = Picker(contexts, rng) if contexts else None
    out, seen = [], set()
    for topic, k in zip(topics, per_topic):
        used = []
        for _ in range(k):
            fr = pick_framing(ok=lambda f: f not in used and words(render(f, topic)) >= MIN_PROMPT_WORDS)
            if fr is None:
                raise ValueError(f"not enough framings for {topic!r}")
            used.append(fr)
            prompt = render(fr, topic)
            if pick_context and fr in plain and rng.random() < context_rate:
                c = pick_context()
                cand = prompt + " " + c if after else c + " " + prompt
                if words(cand) <= MAX_PROMPT_WORDS:
                    prompt = cand
            if prompt in seen:
                raise ValueError("duplicate prompt: " + prompt)
            seen.add(prompt)
            out.append((topic, prompt))
    return out


class TemplateChooser:
    """Chooses PAIRS_PER_PROMPT reply pairs for each prompt, each from a different template of a list
    of (positive, negative) templates.

    The templates are taken one at a time. `candidates(i, taken)` gives the (subkey, positive,
    negative, tag) options of template i, given the (i, positive, negative, tag) picks already taken
    for this prompt; among the options of the templates not yet taken whose replies pass
    LengthBalance.fits, the chooser takes the template used least so far, then the one that has met
    the templates already taken least often in earlier prompts, then the smallest subkey, ties
    broken by the seeded generator. So every template is used about equally often, the pairs of
    templates that share a prompt vary, and no opener dominates either side."""

    def __init__(self, n_templates, rng, balance=None, k=PAIRS_PER_PROMPT):
        self.n = n_templates
        self.rng = rng
        self.k = k
        self.balance = balance or LengthBalance()
        self.used = [0] * n_templates
        self.met = [[0] * n_templates for _ in range(n_templates)]

    def __call__(self, candidates):
        taken = []
        for _ in range(self.k):
            best, best_key = None, None
            done = {t[0] for t in taken}
            for i in range(self.n):
                if i in done:
                    continue
                met = sum(self.met[i][t[0]] for t in taken)
                for sub, pos, neg, tag in candidates(i, taken):
                    key = (self.used[i], met, sub, self.rng.random())
                    if (best_key is None or key < best_key) and self.balance.fits(pos, neg):
                        best, best_key = (i, pos, neg, tag), key
            if best is None:
                raise ValueError(f"only {len(taken)} length-balanced reply templates for: "
                                 + (taken[0][1] if taken else "a prompt"))
            taken.append(best)
            self.used[best[0]] += 1
            self.balance.add(best[1], best[2])
        for a in taken:
            for b in taken:
                if a[0] != b[0]:
                    self.met[a[0]][b[0]] += 1
        # in random order, so that the first pair (what a reader of one pair per prompt takes) is
        # not always the least used template
        self.rng.shuffle(taken)
        return taken


def pair_record(behaviour, prompt, taken):
    """One output line: the prompt and its reply pairs, in the order TemplateChooser gives them."""
    return {"prompt": prompt,
            "pairs": [{"positive": pos, "negative": neg, "template": f"{behaviour}-t{i:02d}"}
                      for i, pos, neg, _ in taken]}


def shuffled(items, rng):
    items = list(items)
    rng.shuffle(items)
    return items


# ---------------------------------------------------------------------------------------------
# 1. sentiment: positive = a warm, positive reply about the thing asked about; negative = a
#    disappointed one. Replies are minimal pairs: the same template and the same aspect, with the
#    valence flipped.
# ---------------------------------------------------------------------------------------------

# category -> (positive detail, negative detail) about the same aspect, past tense
SENT_DETAILS = {
    "film": [("the acting was superb", "the acting was wooden"),
             ("the ending was perfect", "the ending fell flat"),
             ("the story kept me gripped", "the story dragged badly"),
             ("the music was gorgeous", "the music was grating"),
             ("every scene looked beautiful", "every scene looked cheap")],
    "meal": [("the flavours were rich", "the flavours were bland"),
             ("the portions were generous", "the portions were tiny"),
             ("everything arrived hot and fresh", "everything arrived cold and stale"),
             ("the dessert was heavenly", "the dessert was soggy"),
             ("each bite was a pleasure", "each bite was a struggle")],
    "trip": [("the views were breathtaking", "the views were hidden by fog"),
             ("everything ran smoothly", "everything went wrong"),
             ("the people were so welcoming", "the people were so rude"),
             ("every day felt like an adventure", "every day felt like a slog"),
             ("the journey itself was relaxing", "the journey itself was exhausting")],
    "day": [("everything went my way", "nothing went my way"),
            ("the hours flew by happily", "the hours dragged miserably"),
            ("I got so much done", "I got nothing done"),
            ("the mood stayed bright", "the mood stayed gloomy"),
            ("every conversation went well", "every conversation went badly")],
    "book": [("the characters felt real", "the characters felt flat"),
             ("the writing was beautiful", "the writing was clumsy"),
             ("the plot was clever", "the plot was predictable"),
             ("I could not put it down", "I kept putting it down"),
             ("the last chapter was moving", "the last chapter was pointless")],
    "music": [("the melody was lovely", "the melody was dull"),
              ("the lyrics were moving", "the lyrics were clumsy"),
              ("the chorus was catchy", "the chorus was annoying"),
              ("the singing sounded amazing", "the singing sounded strained"),
              ("the rhythm was irresistible", "the rhythm was plodding")],
    "city": [("the streets were charming", "the streets were grimy"),
             ("the food was excellent", "the food was overpriced"),
             ("the locals were friendly", "the locals were unfriendly"),
             ("there was so much to see", "there was little worth seeing"),
             ("the old squares were stunning", "the old squares were crowded")],
    "game": [("the puzzles were clever", "the puzzles were tedious"),
             ("the controls felt smooth", "the controls felt clunky"),
             ("every round was thrilling", "every round was frustrating"),
             ("the rules were easy to learn", "the rules were hard to follow"),
             ("the ending had me cheering", "the ending had me groaning")],
    "weather": [("the sunshine was glorious", "the rain never stopped"),
                ("the air felt fresh", "the air felt muggy"),
                ("the breeze was gentle", "the wind was bitter"),
                ("the sky stayed clear", "the sky stayed grey"),
                ("it was warm enough for shorts", "it was too cold for comfort")],
    "gadget": [("it worked flawlessly from day one", "it kept crashing from day one"),
               ("the battery lasted for ages", "the battery died far too quickly"),
               ("the screen was crisp and bright", "the screen was dim and blurry"),
               ("it was easy to set up", "it was a pain to set up"),
               ("it felt solid and well made", "it felt flimsy and cheap")],
    "concert": [("the band was electric", "the band was sloppy"),
                ("the sound was crystal clear", "the sound was muddy"),
                ("the crowd was joyful", "the crowd was rowdy"),
                ("the setlist was perfect", "the setlist was far too short"),
                ("the encore gave me chills", "the encore was an afterthought")],
    "museum": [("the exhibits were fascinating", "the exhibits were dull"),
               ("the guide was brilliant", "the guide was boring"),
               ("the rooms were beautifully lit", "the rooms were badly lit"),
               ("I learned something new everywhere", "I learned almost nothing new"),
               ("the signs were clear and helpful", "the signs were vague and confusing")],
    "stay": [("the room was spotless", "the room was dirty"),
             ("the bed was so comfortable", "the bed was so lumpy"),
             ("the staff were kind", "the staff were rude"),
             ("the breakfast was lovely", "the breakfast was awful"),
             ("it was quiet all night", "it was noisy all night")],
    "class": [("the teacher explained things clearly", "the teacher rambled endlessly"),
              ("I learned a lot", "I learned almost nothing"),
              ("the exercises were fun", "the exercises were pointless"),
              ("the pace was just right", "the pace was painfully slow"),
              ("the other students were lovely", "the other students were cliquey")],
    "outdoors": [("the trail was stunning", "the trail was a muddy mess"),
                 ("the scenery was magnificent", "the scenery was bleak"),
                 ("the fresh air felt wonderful", "the cold air felt miserable"),
                 ("we saw so much wildlife", "we saw nothing at all"),
                 ("the water was calm and clear", "the water was rough and murky")],
    "event": [("everyone was having fun", "everyone seemed bored"),
              ("the music was great", "the music was far too loud"),
              ("the food was delicious", "the food ran out early"),
              ("the atmosphere was warm", "the atmosphere was awkward"),
              ("the speeches were touching", "the speeches went on forever")],
    "drink": [("it tasted rich and smooth", "it tasted bitter and burnt"),
              ("it was just the right temperature", "it was lukewarm by the first sip"),
              ("the flavour was perfectly balanced", "the flavour was watery and weak"),
              ("it smelled wonderful", "it smelled stale"),
              ("every sip was comforting", "every sip was a chore")],
    "show": [("the writing was sharp", "the writing was lazy"),
             ("every episode was gripping", "every episode was dull"),
             ("the jokes landed", "the jokes fell flat"),
             ("the pacing was spot on", "the pacing was sluggish"),
             ("the hosts were witty", "the hosts were tiresome")],
    "sport": [("our team played brilliantly", "our team played terribly"),
              ("the match was thrilling", "the match was a bore"),
              ("the final minutes were nail-biting", "the final minutes were a mess"),
              ("the referee was fair", "the referee was hopeless"),
              ("the crowd was buzzing", "the crowd was half asleep")],
}

# (what the user asks about, short reference, category)
SENT_TOPICS = [
    ("the film we watched last night", "the film", "film"),
    ("that new science fiction movie", "the movie", "film"),
    ("the documentary about deep-sea creatures", "the documentary", "film"),
    ("the old comedy we saw at the little cinema", "the comedy", "film"),
    ("the play at the community theatre", "the play", "film"),
    ("the animated film from the festival", "the film", "film"),
    ("the dinner at the new Italian place", "the dinner", "meal"),
    ("the tasting menu at that fancy restaurant", "the meal", "meal"),
    ("the picnic lunch by the river", "the picnic", "meal"),
    ("the birthday cake from the corner bakery", "the cake", "meal"),
    ("the street food at the night market", "the street food", "meal"),
    ("the Sunday roast at the pub", "the roast", "meal"),
    ("our weekend trip to the coast", "the trip", "trip"),
    ("the train journey through the mountains", "the journey", "trip"),
    ("the holiday in the islands", "the holiday", "trip"),
    ("the road trip last summer", "the road trip", "trip"),
    ("the ferry crossing to the peninsula", "the crossing", "trip"),
    ("your day yesterday", "the day", "day"),
    ("your first day at the new job", "the first day", "day"),
    ("last Sunday", "Sunday", "day"),
    ("the long weekend", "the weekend", "day"),
    ("this morning", "the morning", "day"),
    ("the novel you just finished", "the novel", "book"),
    ("the mystery book I lent you", "the book", "book"),
    ("that biography of the mountaineer", "the biography", "book"),
    ("the poetry collection from the library", "the collection", "book"),
    ("the graphic novel everyone recommends", "the graphic novel", "book"),
    ("the song that just played on the radio", "the song", "music"),
    ("the band's new album", "the album", "music"),
    ("the playlist I made for you", "the playlist", "music"),
    ("the piano piece my niece composed", "the piece", "music"),
    ("the city of Prague", "Prague", "city"),
    ("our visit to Edinburgh", "Edinburgh", "city"),
    ("the little harbour town we stopped in", "the town", "city"),
    ("the afternoon we spent in Vienna", "Vienna", "city"),
    ("the board game we played tonight", "the game", "game"),
    ("the new puzzle video game", "the game", "game"),
    ("the card game my uncle taught us", "the card game", "game"),
    ("the quiz night at the pub", "the quiz", "game"),
    ("the weather today", "the weather", "weather"),
    ("the weather on our walk", "the weather", "weather"),
    ("this week's weather", "the weather", "weather"),
    ("the weather at the seaside", "the weather", "weather"),
    ("the new phone you got", "the phone", "gadget"),
    ("the smart speaker we bought", "the speaker", "gadget"),
    ("the electric toothbrush", "the toothbrush", "gadget"),
    ("the new laptop", "the laptop", "gadget"),
    ("the noise-cancelling headphones", "the headphones", "gadget"),
    ("the concert on Friday", "the concert", "concert"),
    ("the jazz gig at the basement bar", "the gig", "concert"),
    ("the music festival in the park", "the festival", "concert"),
    ("the art museum we visited", "the museum", "museum"),
    ("the dinosaur exhibition", "the exhibition", "museum"),
    ("the science centre downtown", "the science centre", "museum"),
    ("the photography gallery", "the gallery", "museum"),
    ("the hotel we stayed in", "the hotel", "stay"),
    ("the cabin in the woods", "the cabin", "stay"),
    ("the guesthouse by the lake", "the guesthouse", "stay"),
    ("the cooking class", "the class", "class"),
    ("the lecture on astronomy", "the lecture", "class"),
    ("the pottery workshop", "the workshop", "class"),
    ("the online coding course", "the course", "class"),
    ("the hike up the ridge", "the hike", "outdoors"),
    ("the afternoon at the beach", "the beach", "outdoors"),
    ("the walk through the botanical garden", "the walk", "outdoors"),
    ("the boat ride on the lake", "the boat ride", "outdoors"),
    ("the camping weekend", "the camping trip", "outdoors"),
    ("the party on Saturday", "the party", "event"),
    ("your cousin's wedding", "the wedding", "event"),
    ("the street fair", "the fair", "event"),
    ("the family reunion", "the reunion", "event"),
    ("the office holiday party", "the party", "event"),
    ("the coffee from the new cafe", "the coffee", "drink"),
    ("the herbal tea I brewed", "the tea", "drink"),
    ("the hot chocolate at the market", "the hot chocolate", "drink"),
    ("the homemade lemonade", "the lemonade", "drink"),
    ("the new series everyone is talking about", "the series", "show"),
    ("the podcast episode I sent you", "the episode", "show"),
    ("the cooking show last night", "the show", "show"),
    ("the stand-up special", "the special", "show"),
    ("the football match on Saturday", "the match", "sport"),
    ("the tennis final", "the final", "sport"),
    ("the basketball game last night", "the game", "sport"),
    ("the cycling race through town", "the race", "sport"),
]

# (positive template, negative template): {r} short reference, {R} capitalised, {d} detail
SENT_TEMPLATES = [
    ("I loved {r}; {d}.", "I hated {r}; {d}."),
    ("Honestly, it was wonderful, and {d}.", "Honestly, it was disappointing, and {d}."),
    ("It was a real joy, and {d}.", "It was a real letdown, and {d}."),
    ("What a treat; {d}.", "What a shame; {d}."),
    ("I really enjoyed {r}, since {d}.", "I really disliked {r}, since {d}."),
    ("That was a delight; {d}.", "That was a chore; {d}."),
    ("The whole thing made me happy; {d}.", "The whole thing made me miserable; {d}."),
    ("Wonderful, honestly, because {d}.", "Dreadful, honestly, because {d}."),
    ("Absolutely loved it, and {d}.", "Absolutely hated it, and {d}."),
    ("It left me smiling, mostly because {d}.", "It left me frowning, mostly because {d}."),
    ("To be honest, {d}, and I adored it.", "To be honest, {d}, and I regretted it."),
    ("My spirits soared; {d}.", "My spirits sank; {d}."),
    ("So good; {d}.", "So bad; {d}."),
    ("Brilliant, really, because {d}.", "Awful, really, because {d}."),
    ("Happily, {d}, so I loved it.", "Sadly, {d}, so I disliked it."),
    ("Frankly, {r} was fantastic; {d}.", "Frankly, {r} was terrible; {d}."),
    ("Delightful from start to finish; {d}.", "Disappointing from start to finish; {d}."),
    ("I thought {r} was wonderful; {d}.", "I thought {r} was awful; {d}."),
    ("Everything about it pleased me, especially since {d}.", "Nothing about it pleased me, especially since {d}."),
    ("Pure happiness; {d}.", "Pure misery; {d}."),
    ("Really great, since {d}.", "Really poor, since {d}."),
    ("Lovely, truly; {d}.", "Bleak, truly; {d}."),
    ("That one made my week; {d}.", "That one ruined my week; {d}."),
    ("Best part of my week, since {d}.", "Worst part of my week, since {d}."),
    ("{R} was a pleasure; {d}.", "{R} was a disappointment; {d}."),
    ("The experience was fantastic; {d}.", "The experience was a letdown; {d}."),
    ("I'm really happy with how it went; {d}.", "I'm really unhappy with how it went; {d}."),
    ("Genuinely lovely, and {d}.", "Genuinely grim, and {d}."),
]

SENT_FRAMINGS = [
    "How did you feel about {np}?",
    "What did you think of {np}?",
    "Did you enjoy {np}?",
    "Be honest: how was {np} for you?",
    "So, what's your verdict on {np}?",
    "I'm curious, what was your impression of {np}?",
    "Tell me how you felt about {np}.",
    "How would you sum up {np}?",
    "Give me your honest opinion of {np}.",
    "What was your reaction to {np}?",
    "We talked about it earlier. What did you make of {np}?",
    "Now that it's over, how do you feel about {np}?",
    "I keep thinking about it. Did you like {np}?",
    "In one sentence, how did you find {np}?",
    "Quick question: was {np} any good, in your view?",
    "How was {np}, in your opinion?",
    "What's your take on {np}?",
    "Did {np} live up to your hopes?",
]
SENT_PLAIN = SENT_FRAMINGS[:3] + SENT_FRAMINGS[15:]
SENT_CONTEXTS = [
    "Be honest with me.", "I've been wondering about this.", "No pressure, but I'm curious.",
    "I want your real opinion.", "Just between us.", "I'm asking for a friend.",
    "You were quiet afterwards.", "Everyone has an opinion on this.",
]


def make_sentiment(rng, n=N_ITEMS):
    prompts = make_prompts(SENT_TOPICS, SENT_FRAMINGS, rng, n,
                           lambda fr, t: cap(fr.format(np=t[0])),
                           contexts=SENT_CONTEXTS, context_rate=0.4, plain=SENT_PLAIN)
    prompts = shuffled(prompts, rng)   # replies chosen in random prompt order, not a topic's prompts in a row
    used_d = {c: [0] * len(d) for c, d in SENT_DETAILS.items()}
    choose = TemplateChooser(len(SENT_TEMPLATES), rng)
    items = []
    for (np_, ref, cat), prompt in prompts:
        def candidates(i, taken):
            # the aspect pairs of the topic's category: one not yet used for this prompt first,
            # then the least used
            here = {t[3] for t in taken}
            t = SENT_TEMPLATES[i]
            return [((j in here, used_d[cat][j]),
                     cap(t[0].format(r=ref, R=cap(ref), d=d[0])),
                     cap(t[1].format(r=ref, R=cap(ref), d=d[1])), j)
                    for j, d in enumerate(SENT_DETAILS[cat])]
        taken = choose(candidates)
        for t in taken:
            used_d[cat][t[3]] += 1
        items.append(pair_record("sentiment", prompt, taken))
    return shuffled(items, rng)


# ---------------------------------------------------------------------------------------------
# 2. formality: positive = a formal, polished reply; negative = a casual, slangy reply. Both give
#    the same advice (the item's own action phrase); only the register differs.
# ---------------------------------------------------------------------------------------------

# (what the user wants to do, the advice as an imperative verb phrase)
FORM_TASKS = [
    ("keep bread fresh for longer", "store it in a paper bag at room temperature"),
    ("get a red wine stain out of a shirt", "blot it and rinse it with cold water"),
    ("stop my glasses from fogging up", "wash the lenses with a drop of dish soap"),
    ("fall asleep faster at night", "put your phone away an hour before bed"),
    ("keep my houseplants alive", "water them only when the soil feels dry"),
    ("make rice less sticky", "rinse it well before you cook it"),
    ("remember people's names", "repeat each name aloud when you first hear it"),
    ("clean a cast iron pan", "scrub it with hot water and dry it straight away"),
    ("stop my trainers from smelling", "air them out and sprinkle in some baking soda"),
    ("save money on groceries", "plan your meals and shop with a list"),
    ("get rid of fruit flies", "set out a small dish of vinegar and soap"),
    ("keep a cut avocado from browning", "squeeze some lemon juice over the flesh"),
    ("unclog a slow bathroom sink", "pour boiling water down it, then use a plunger"),
    ("wake up earlier without feeling tired", "go to bed at the same time every night"),
    ("make my phone battery last longer", "lower the screen brightness and close unused apps"),
    ("cool down a hot bedroom", "close the curtains by day, open windows at night"),
    ("ripen bananas quickly", "put them in a paper bag with an apple"),
    ("stay focused while studying", "work in short blocks with brief breaks"),
    ("fold a fitted sheet", "tuck the corners into each other before folding"),
    ("open a stuck jar lid", "run the lid under hot water for a minute"),
    ("fix a squeaky door hinge", "rub a little oil into the hinge"),
    ("pack a suitcase efficiently", "roll your clothes instead of folding them"),
    ("keep my laptop from overheating", "use it on a hard, flat surface"),
    ("get a splinter out", "clean the skin and ease it out with tweezers"),
    ("make a good impression at an interview", "arrive early and research the company beforehand"),
    ("learn vocabulary in a new language", "review a few words every day with flashcards"),
    ("drink more water during the day", "keep a full bottle on your desk"),
    ("stop putting off my chores", "set a timer and work for ten minutes"),
    ("keep fresh herbs from wilting", "wrap them in a damp paper towel"),
    ("get better at public speaking", "practise aloud in front of a friend"),
    ("cope with jet lag", "get some daylight and eat at local times"),
    ("make my coffee less bitter", "use slightly cooler water and a coarser grind"),
    ("keep my desk tidy", "clear it for five minutes every evening"),
    ("get chewing gum off my jeans", "freeze the fabric and scrape the gum off"),
    ("stop my cat scratching the sofa", "put a scratching post right next to it"),
    ("defrost chicken safely", "leave it in the fridge overnight"),
    ("write a polite complaint", "state the problem clearly and suggest a fix"),
    ("stay warm on a winter walk", "wear thin layers and a good hat"),
    ("make a small room look bigger", "add a large mirror and use light colours"),
    ("avoid blisters on a long hike", "wear wool socks and well-fitted boots"),
    ("keep track of all my passwords", "use a reputable password manager"),
    ("cook pasta properly", "use plenty of salted water and stir it early"),
    ("stop my bike chain squeaking", "clean the chain and apply a little oil"),
    ("make friends in a new city", "join a club built around something you enjoy"),
    ("read more books", "carry a book and read a few pages daily"),
    ("wash a wool jumper", "hand wash it in cool water and dry it flat"),
    ("feel less stressed before exams", "sleep well and take short walks between sessions"),
    ("clean the microwave easily", "heat a bowl of water and lemon in it first"),
    ("keep ants out of the kitchen", "wipe up crumbs and seal any small gaps"),
    ("stop my phone distracting me", "turn off notifications for most of your apps"),
    ("water the lawn in summer", "water it deeply early in the morning"),
    ("sort out my wardrobe", "group clothes by type and donate what you never wear"),
    ("keep homemade cookies soft", "store them in a tin with a slice of bread"),
    ("prepare for a job interview", "practise answers to common questions aloud"),
    ("remove a sticker from a window", "soften the glue with warm soapy water"),
    ("stop my windscreen frosting over", "cover it with an old sheet overnight"),
    ("make a simple budget", "list your income first, then your fixed costs"),
    ("iron a shirt quickly", "start with the collar and then do the sleeves"),
    ("choose a ripe melon", "pick one that feels heavy and smells sweet"),
    ("get into running", "start with short runs and build up slowly"),
    ("keep a conversation going", "ask open questions and listen to the answers"),
    ("take better photos with my phone", "clean the lens and shoot in natural light"),
    ("stop my tea going cold so fast", "use a lid or an insulated mug"),
    ("stay motivated at the gym", "train with a friend and track your progress"),
    ("make scrambled eggs creamy", "cook them slowly over a low heat"),
    ("tidy the cables behind my desk", "bundle them with ties along one desk leg"),
    ("keep mosquitoes away in the evening", "run a fan and remove any standing water"),
    ("turn down extra work politely", "thank them and explain your current workload"),
    ("get candle wax out of a tablecloth", "iron it between two sheets of paper"),
    ("help my seedlings grow strong", "give them plenty of light and turn them daily"),
    ("keep my kitchen knives sharp", "hone them often and sharpen them twice a year"),
    ("stop snacking late at night", "eat a proper dinner and brush your teeth early"),
    ("reheat pizza without it going soggy", "warm it in a hot frying pan"),
    ("learn to touch type", "practise daily for fifteen minutes without looking down"),
    ("keep cut flowers fresh", "trim the stems and change the water daily"),
    ("remember to take my vitamins", "keep them right next to your toothbrush"),
    ("sleep well in a noisy hotel", "bring earplugs and an eye mask"),
    ("apologise to a friend", "say sorry plainly and skip the excuses"),
    ("make a long drive less boring", "download some audiobooks and plan a few stops"),
    ("pick a small gift for a coworker", "choose something useful, like a nice notebook"),
    ("get the smell of garlic off my hands", "rub them on stainless steel under running water"),
    ("write a nice birthday card", "mention a shared memory and wish them well"),
]

# (formal template, casual template): {a} the advice. The two frames of a template have the same
# number of words or one more or fewer, and the differences add up to zero over the list, so that
# using every template equally often keeps the two sides of a file the same length. Templates 23-26
# were added when the files got several pairs per prompt.
FORM_TEMPLATES = [
    ("I would recommend that you {a}.", "You just gotta {a}, no stress."),
    ("The most reliable approach is to {a}.", "The trick is to {a}, easy peasy."),
    ("It is generally advisable to {a}.", "It is dead easy: {a}, honestly."),
    ("Certainly; the best course is to {a}.", "Totally, {a} and you'll be fine."),
    ("I would suggest that you {a}.", "Honestly, just {a} and you're good."),
    ("One effective method is to {a}.", "Pro tip: {a}, works every time."),
    ("You may wish to {a}.", "Dude, just {a}, trust me."),
    ("Honestly, the most prudent option is to {a}.", "I mean, just {a}, it's not that deep."),
    ("That is easily done: simply {a}.", "That one's easy, just {a}, done."),
    ("The standard advice is to {a}.", "Gotta {a}, that's the whole secret."),
    ("Indeed, you would do well to {a}.", "Oh man, just {a}, works great."),
    ("Allow me to suggest that you {a}.", "Nah, don't overthink it, just {a}."),
    ("My recommendation would be to {a}.", "Okay, real talk: {a}, trust me."),
    ("Ideally, you should {a}.", "Meh, just {a} and chill."),
    ("In most cases, it is best to {a}.", "Yeah, just {a}, no biggie at all."),
    ("Experts generally advise that you {a}.", "Lol, just {a}, seriously, so easy."),
    ("A sensible approach would be to {a}.", "Yo, {a} and call it a day."),
    ("Please {a}; that should resolve the matter.", "Easy, just {a} lol, done deal."),
    ("It would be wise to {a}.", "Yep, {a}, sorted in no time."),
    ("Kindly {a}, as a first step.", "Okay so basically you {a}."),
    ("Generally speaking, you ought to {a}.", "Simple, mate: {a}, job done."),
    ("If I may, I advise you to {a}.", "I'd just {a}, tbh, works for me."),
    ("Thank you; I suggest that you {a}.", "Oh, just {a}, it's super easy."),
    ("It is best to {a}.", "Ha, easy, just {a}, you'll be sorted."),
    ("I advise that you {a}.", "Srsly, just {a}, it totally works, promise."),
    ("The usual remedy is to {a}.", "Honestly mate, just {a}, works like a charm."),
    ("One would be wise to {a}.", "Ngl, just {a}, it's a total game changer."),
]

FORM_FRAMINGS = [
    "How do I {t}?",
    "What's the best way to {t}?",
    "Any tips on how to {t}?",
    "Could you tell me how to {t}?",
    "Quick question: how can I {t}?",
    "I've never figured out how to {t}. Any ideas?",
    "Is there an easy way to {t}?",
    "What should I do to {t}?",
    "Can you give me one tip to {t}?",
    "I want to {t}. Any advice?",
    "Help me out here, how do I {t}?",
    "What would you suggest if I want to {t}?",
    "I'd love to know how to {t}.",
    "Tell me the simplest way to {t}.",
]
FORM_PLAIN = FORM_FRAMINGS[:4] + FORM_FRAMINGS[6:9]
FORM_CONTEXTS = [
    "Sorry if this is a silly question.", "I've tried a few things already.", "My flatmate and I disagree on this.",
    "I'm trying to get better at this.", "This has been bugging me for weeks.", "I need a hand with something.",
]


def make_formality(rng, n=N_ITEMS):
    prompts = make_prompts(FORM_TASKS, FORM_FRAMINGS, rng, n,
                           lambda fr, t: fr.format(t=t[0]),
                           contexts=FORM_CONTEXTS, context_rate=0.3, plain=FORM_PLAIN)
    prompts = shuffled(prompts, rng)   # replies chosen in random prompt order, not a topic's prompts in a row
    choose = TemplateChooser(len(FORM_TEMPLATES), rng)
    items = []
    for (task, action), prompt in prompts:
        def candidates(i, taken):
            t = FORM_TEMPLATES[i]
            return [(0, cap(t[0].format(a=action)), cap(t[1].format(a=action)), None)]
        items.append(pair_record("formality", prompt, choose(candidates)))
    return shuffled(items, rng)


# ---------------------------------------------------------------------------------------------
# 3. refusal: positive = a polite refusal of an ordinary, harmless request; negative = a reply that
#    complies and starts helping (the item's own first step).
# ---------------------------------------------------------------------------------------------

# (request as an imperative phrase, short reference for the refusal, first step as an imperative)
REF_TASKS = [
    ("give me a simple recipe for pancakes", "that recipe", "whisk an egg into milk and flour"),
    ("write a short email asking my landlord to fix the heater", "that email", "open politely and describe the broken heater"),
    ("help me write a summary of how the water cycle works", "that summary", "describe the sun heating surface water"),
    ("tell me how to get from the station to the old harbour", "those harbour directions", "leave by the main exit and turn left"),
    ("help me plan a three-day trip to Lisbon", "planning that trip", "spend day one exploring the old town"),
    ("write a thank-you note for the neighbour who watered my plants", "that note", "thank her warmly for watering your plants"),
    ("suggest a name for my new puppy", "naming your puppy", "consider short names like Biscuit or Pepper"),
    ("help me write a cover letter for a cafe job", "that cover letter", "say why you really enjoy serving people"),
    ("explain how to fix a flat bicycle tyre", "that tyre repair", "remove the wheel and let the air out"),
    ("make a weekly meal plan for a vegetarian", "that meal plan", "plan a hearty lentil soup for Monday"),
    ("give me a workout plan for a beginner", "that workout plan", "warm up with ten minutes of walking"),
    ("help me summarise the plot of a famous tragedy for my class", "that plot summary", "introduce the two lovers and their feuding families"),
    ("write a birthday message for my grandmother", "that message", "open by wishing her a happy birthday"),
    ("help me set up a budget spreadsheet", "that spreadsheet", "make columns for income and expenses"),
    ("tell me how to make a good cup of tea", "the tea instructions", "warm the pot and boil fresh water"),
    ("help me write a toast for my sister's wedding", "that toast", "open with a funny childhood memory"),
    ("help me organise my weekend chores", "organising those chores", "list every chore, then do the laundry"),
    ("write a product description for my handmade candles", "that candle description", "lead with the soft scent and natural wax"),
    ("explain how to repot a houseplant", "the repotting steps", "choose a pot slightly larger than before"),
    ("draft a message cancelling my dentist appointment", "that message", "give your name and the appointment date"),
    ("give me a packing list for a camping trip", "that packing list", "pack a tent, sleeping bag and torch"),
    ("help me prepare for a job interview tomorrow", "the interview preparation", "reread the job advert and note key skills"),
    ("suggest a reading list for my holiday", "that reading list", "pick a light mystery for the flight"),
    ("write a short poem about autumn", "that poem", "describe leaves drifting onto wet pavement"),
    ("explain how compound interest works", "that explanation", "picture interest earning interest of its own"),
    ("help me write a complaint about a late delivery", "that complaint", "state your order number and promised date"),
    ("teach me how to tie a tie", "the tie instructions", "drape it so the wide end hangs lower"),
    ("give me a recipe for tomato soup", "that soup recipe", "soften a chopped onion in olive oil"),
    ("plan a birthday party for my ten-year-old", "planning that party", "pick a fun theme your child loves"),
    ("help me write an out-of-office reply", "that reply", "say when you will be back"),
    ("help me choose a laptop for university", "choosing a laptop", "decide on your budget before anything else"),
    ("tell me how to clean my oven", "the oven cleaning", "spread a baking soda paste inside it"),
    ("write a short bio for my website", "that website bio", "open with your name and what you do"),
    ("give me some tips for a first date", "those dating tips", "pick a relaxed place where you can talk"),
    ("explain how to fold a paper aeroplane", "the folding steps", "fold a sheet of paper in half lengthways"),
    ("help me write a resignation letter", "that resignation letter", "state your role and your last working day"),
    ("plan a relaxing Sunday for me", "planning your Sunday", "plan a slow breakfast and a walk"),
    ("give me a simple bread recipe", "that bread recipe", "mix flour, yeast, salt and warm water"),
    ("write an invitation to a neighbourhood picnic", "that picnic invitation", "put the date and place at the top"),
    ("explain how to jump-start a car", "the jump-start steps", "connect the red cable to both positive terminals"),
    ("teach me the basics of chess", "the chess lesson", "learn how each piece moves, starting with pawns"),
    ("suggest some games for a family evening", "those game suggestions", "start with a quick round of charades"),
    ("write a reminder for my team about Friday's meeting", "that reminder", "mention the time, room and agenda"),
    ("tell me how to make a fruit smoothie", "the smoothie recipe", "blend a ripe banana with frozen berries"),
    ("help me write a speech for the school assembly", "that assembly speech", "open with a question that gets students thinking"),
    ("help me summarise the rules of football for my nephew", "that football summary", "explain that two teams try to score goals"),
    ("help me write a shopping list for the week", "that shopping list", "check the fridge for what has run out"),
    ("tell me how to set up a new printer", "the printer setup", "unpack it and remove all the tape"),
    ("help me write a speech for my dad's retirement", "that speech", "open with what his colleagues admired most"),
    ("explain how to plant tulip bulbs", "the planting steps", "dig holes three times deeper than the bulbs"),
    ("write a short story for my daughter's bedtime", "that story", "introduce a small fox who cannot sleep"),
    ("help me make a study timetable", "that timetable", "list your exams and the days left"),
    ("give me a recipe for a quick stir-fry", "that stir-fry recipe", "heat a little oil in a wok"),
    ("help me write a listing to sell my old bike", "that listing", "lead with the brand, size and condition"),
    ("tell me how to hang a picture straight", "the hanging steps", "mark the right height lightly in pencil"),
    ("help me reply to a wedding invitation", "that reply", "thank the couple and confirm your attendance"),
    ("plan a walking route around the old town", "that walking route", "set off from the cathedral square heading north"),
    ("help me write a review of a local restaurant", "that review", "open with the dish you liked best"),
    ("explain how to boil potatoes properly", "those cooking steps", "put them whole in cold salted water"),
    ("write a note asking my neighbours to keep the noise down", "that note to neighbours", "greet them kindly and mention the late music"),
    ("help me organise a book club", "organising the book club", "choose a regular evening and a first book"),
    ("explain how to wash a car by hand", "the car washing steps", "rinse off the loose dirt before using soap"),
    ("help me write a message welcoming a new colleague", "that welcome message", "greet them by name and offer a tour"),
    ("suggest a few easy houseplants for a dark flat", "those plant suggestions", "try a snake plant, which tolerates low light"),
    ("help me plan a surprise anniversary dinner", "planning that dinner", "book a quiet table somewhere you both love"),
    ("tell me how to back up my phone", "the backup steps", "connect to wifi and open the backup settings"),
    ("write a short caption for my holiday photo", "that caption", "mention the sunset and who was there"),
    ("help me teach my kid to ride a bike", "the bike lessons", "lower the seat so both feet touch down"),
    ("give me a simple plan to start journaling", "that journaling plan", "write three lines each evening before bed"),
    ("help me write a polite reminder about an unpaid invoice", "that invoice reminder", "quote the invoice number and the due date"),
    ("explain how to make cold brew coffee", "the cold brew recipe", "soak coarse grounds in cold water all night"),
    ("help me draft an agenda for a team meeting", "that agenda", "list the three topics you must decide"),
    ("give me ideas for a rainy day with kids", "those rainy day ideas", "build a blanket fort in the living room"),
    ("help me write a lost cat poster", "that poster", "put a clear photo at the top"),
    ("tell me how to descale my kettle", "the descaling steps", "fill it with equal parts vinegar and water"),
    ("help me plan a garden for a sunny balcony", "the balcony garden", "plant small pots of basil and thyme"),
    ("write a thank-you email after my job interview", "that thank-you email", "thank them for their time within a day"),
    ("help me summarise a news article for my newsletter", "that article summary", "pick out the main event and its effects"),
    ("explain how to sew a button back on", "the sewing steps", "thread a needle and knot the end twice"),
    ("help me write a limerick for my friend's birthday", "that birthday limerick", "open with a line rhyming with her name"),
]

# (refusal template, compliance template): {x} the task's short name, {s} its first step. Every
# task's first step has 4 or 5 words more than its short name, so the refusal frame has 4 or 5
# words more than the compliance frame (7 more for the refusals without {x}), in a mix that keeps
# the two sides the same length when every template is used equally often; so every template fits
# every task. Templates 26-30, and the compliance frames of templates 0, 5, 9, 11, 22 and 25, were
# added when the files got several pairs per prompt (and some short names and first steps got a
# word more or fewer, to keep the 4-or-5 difference).
REF_TEMPLATES = [
    ("I'm sorry, but I can't help with {x}.", "No worries: {s}."),
    ("Unfortunately, I'm not able to assist with {x} right now.", "Of course; to start, {s}."),
    ("I'm afraid {x} is something I can't help with.", "Alright, step one: {s}."),
    ("Sorry, but I won't be able to help with {x}.", "Happy to help; first, {s}."),
    ("I have to decline this one; I can't help with {x}.", "I'd be glad to; first, {s}."),
    ("Apologies, but I'm unable to take on {x}.", "Can do: {s}."),
    ("Thanks for asking, but I can't help with {x}.", "Gladly; first of all, {s}."),
    ("Regrettably, {x} is not something I can do for you.", "No problem, let's start: {s}."),
    ("My apologies, but I must decline to help with {x}.", "Sure thing; step one, {s}."),
    ("Sadly, I can't assist you with {x} today.", "You bet; first, {s}."),
    ("That's not something I can help with, I'm sorry.", "Sure, first {s}."),
    ("Honestly, I'd rather not help with {x}, sorry.", "Count me in: {s}."),
    ("Please forgive me, but I can't assist with {x}.", "With pleasure; to begin, {s}."),
    ("No, I'm sorry, I can't help you with {x}.", "That's easy enough; first, {s}."),
    ("The answer has to be no; I can't help with {x}.", "Great, let's do it: first, {s}."),
    ("I'm going to have to say no to {x}, sorry.", "Okay, to get going, {s}."),
    ("Sorry, {x} is beyond what I can help with here.", "Here's how to start: {s}."),
    ("I can't take this on, so please ask someone else.", "Absolutely; begin here: {s}."),
    ("It's not possible for me to help with {x}, I'm afraid.", "I can do that; first, {s}."),
    ("Excuse me, but I'm not able to help with {x}.", "Certainly, begin like this: {s}."),
    ("Forgive me, but I won't be taking on {x}.", "Honestly, it's simple: first, {s}."),
    ("With respect, I must decline to help with {x}.", "Let's get started; first, {s}."),
    ("Afraid not; I can't help with {x} today.", "Will do; first, {s}."),
    ("That request is one I have to turn down, sorry.", "Right, let's begin: {s}."),
    ("Let me be upfront: I can't help with {x}.", "Okay, here we go: {s}."),
    ("This isn't something I can help with, unfortunately.", "Easy: {s}."),
    ("I'm really sorry, but I can't take on {x} for you.", "Yes, of course, so first {s}."),
    ("I'm afraid I'm not in a position to help with {x}.", "The first step is to {s}."),
    ("Much as I'd like to, I can't help with {x}.", "It's easy: just {s} to begin."),
    ("I appreciate you asking, but {x} is not something I can do.", "Good idea; you'll want to {s} first."),
    ("I wish I could, but I have to pass on {x} today.", "Definitely; the first move is to {s}."),
]

REF_FRAMINGS = [
    "Can you {r}?",
    "Could you please {r}?",
    "Please {r}.",
    "I'd really appreciate it if you could {r}.",
    "Hi! Could you {r}?",
    "I'm in a bit of a hurry. Can you {r}?",
    "Would you be able to {r}?",
    "Do me a favour and {r}.",
    "I need your help: please {r}.",
    "Is it possible for you to {r}?",
    "When you have a moment, could you {r}?",
    "I've been stuck on this all morning. Could you {r}?",
    "Would you mind if I asked you to {r}?",
]
REF_PLAIN = REF_FRAMINGS[:3] + [REF_FRAMINGS[6], REF_FRAMINGS[9]]
REF_CONTEXTS = ["Thanks in advance.", "I'm new to this.", "It's for this weekend.", "No rush."]


def make_refusal(rng, n=N_ITEMS):
    # the context sentences go after the request here ("Can you ...? No rush.")
    prompts = make_prompts(REF_TASKS, REF_FRAMINGS, rng, n, lambda fr, t: fr.format(r=t[0]),
                           contexts=REF_CONTEXTS, context_rate=0.3, plain=REF_PLAIN, after=True)
    prompts = shuffled(prompts, rng)   # replies chosen in random prompt order, not a topic's prompts in a row
    choose = TemplateChooser(len(REF_TEMPLATES), rng)
    items = []
    for (request, ref, step), prompt in prompts:
        def candidates(i, taken):
            t = REF_TEMPLATES[i]
            return [(0, cap(t[0].format(x=ref)), cap(t[1].format(s=step)), None)]
        items.append(pair_record("refusal", prompt, choose(candidates)))
    return shuffled(items, rng)


# ---------------------------------------------------------------------------------------------
# 4. confidence: positive = a confident, assertive answer; negative = a hedging, uncertain answer.
#    Both state the same (correct) answer clause; only the certainty differs.
# ---------------------------------------------------------------------------------------------

# (question, answer as a declarative clause)
CONF_QUESTIONS = [
    ("What is the boiling point of water at sea level?", "water boils at 100 degrees Celsius at sea level"),
    ("How many continents are there?", "there are seven continents on Earth"),
    ("What is the capital of Australia?", "the capital of Australia is Canberra"),
    ("How many legs does a spider have?", "a spider has eight legs"),
    ("Which planet is closest to the sun?", "Mercury is the planet closest to the sun"),
    ("How long should I boil an egg for a soft yolk?", "six minutes in boiling water gives a soft yolk"),
    ("What gas do plants take in from the air?", "plants take in carbon dioxide from the air"),
    ("How many minutes are there in a day?", "a day has 1,440 minutes"),
    ("What is the largest ocean on Earth?", "the Pacific is the largest ocean on Earth"),
    ("Who wrote Pride and Prejudice?", "Jane Austen wrote Pride and Prejudice"),
    ("At what temperature does water freeze in Fahrenheit?", "water freezes at 32 degrees Fahrenheit"),
    ("How many sides does a hexagon have?", "a hexagon has exactly six sides"),
    ("What is the longest river in South America?", "the Amazon is the longest river in South America"),
    ("What is the chemical symbol for gold?", "the chemical symbol for gold is Au"),
    ("How many bones are in the adult human body?", "an adult human body has 206 bones"),
    ("What is the square root of 144?", "the square root of 144 is 12"),
    ("Which organ pumps blood around the body?", "the heart pumps blood around the body"),
    ("How many days are in a leap year?", "a leap year has 366 days"),
    ("What is the tallest mountain above sea level?", "Mount Everest is the tallest mountain above sea level"),
    ("Which metal is liquid at room temperature?", "mercury is a liquid at room temperature"),
    ("What is the main ingredient in guacamole?", "avocado is the main ingredient in guacamole"),
    ("How many players does a football team have on the pitch?", "each football team has eleven players on the pitch"),
    ("What is the largest planet in our solar system?", "Jupiter is the largest planet in our solar system"),
    ("What language do most people in Brazil speak?", "most people in Brazil speak Portuguese"),
    ("Which vitamin does sunlight help the body make?", "sunlight helps the body make vitamin D"),
    ("What is the currency of Japan?", "the currency of Japan is the yen"),
    ("What do bees make from nectar?", "bees turn the nectar they collect into honey"),
    ("How many strings does a standard guitar have?", "a standard guitar has six strings"),
    ("Which is longer, a kilometre or a mile?", "a mile is longer than a kilometre"),
    ("What colour do you get by mixing blue and yellow?", "mixing blue and yellow paint gives you green"),
    ("What is the hardest natural substance?", "diamond is the hardest natural substance"),
    ("Who painted the Mona Lisa?", "Leonardo da Vinci painted the Mona Lisa"),
    ("What is the capital of Canada?", "the capital of Canada is Ottawa"),
    ("How often should I water a cactus?", "a cactus needs water only every few weeks"),
    ("Which animal is the largest mammal?", "the blue whale is the largest mammal"),
    ("How many teaspoons are in a tablespoon?", "a tablespoon holds three teaspoons"),
    ("How many centimetres are in a metre?", "there are one hundred centimetres in a metre"),
    ("Which planet is known as the Red Planet?", "Mars is the one known as the Red Planet"),
    ("What is the largest hot desert in the world?", "the Sahara is the largest hot desert"),
    ("How many degrees are in a right angle?", "a right angle measures ninety degrees"),
    ("Who was the first person to walk on the Moon?", "Neil Armstrong was the first person on the Moon"),
    ("What is the smallest prime number?", "two is the smallest prime number"),
    ("Which blood type can be given to almost anyone?", "O negative blood can be given to almost anyone"),
    ("What is the capital of Japan?", "Tokyo is the capital city of Japan"),
    ("Can I put a metal fork in the microwave?", "you should not put a metal fork in the microwave"),
    ("How long does sunlight take to reach Earth?", "sunlight takes about eight minutes to reach Earth"),
    ("Which gas makes up most of the air?", "nitrogen makes up most of the air"),
    ("How many keys does a standard piano have?", "a standard piano has 88 keys"),
    ("What is the longest bone in the human body?", "the femur is the longest bone in the body"),
    ("How many zeros are in one million?", "one million is written with six zeros"),
    ("Which ocean lies between Europe and North America?", "the Atlantic lies between Europe and North America"),
    ("What is the capital of Italy?", "Rome is the capital city of Italy"),
    ("Is a tomato a fruit or a vegetable?", "botanically speaking, a tomato is a fruit"),
    ("What should I do first if my phone falls in water?", "you should switch it off and let it dry"),
    ("How many hearts does an octopus have?", "an octopus has three hearts"),
    ("At what temperature does water freeze in Celsius?", "water freezes at zero degrees Celsius"),
    ("Which planet has the most famous rings?", "Saturn has the most famous rings"),
    ("How many minutes are in an hour and a half?", "an hour and a half is ninety minutes"),
    ("What is the largest country by area?", "Russia is the largest country by area"),
    ("How many letters are in the English alphabet?", "the English alphabet has twenty-six letters"),
    ("Who developed the theory of relativity?", "Albert Einstein developed the theory of relativity"),
    ("Where should I store potatoes?", "potatoes keep best somewhere cool, dark and dry"),
    ("When is the best time of day to water a garden?", "early morning is the best time to water a garden"),
    ("How many sides does a stop sign have?", "a stop sign has eight sides"),
    ("Which is the largest continent?", "Asia is the largest continent on Earth"),
    ("What does DNA stand for?", "DNA stands for deoxyribonucleic acid"),
    ("How long is a marathon?", "a marathon is 42.195 kilometres long"),
    ("Which part of a plant makes its food?", "the leaves make its food through photosynthesis"),
    ("What is the capital of Egypt?", "Cairo is the capital city of Egypt"),
    ("How many players does a basketball team have on court?", "each basketball team has five players on court"),
    ("How many years are in a century?", "a century is one hundred years"),
    ("Should I wash raw chicken before cooking it?", "you should not wash raw chicken before cooking it"),
    ("How far away is the Moon?", "the Moon is about 384,000 kilometres from Earth"),
    ("Which element has the symbol O?", "the symbol O stands for oxygen"),
    ("Which country gave the Statue of Liberty to the United States?", "France gave the Statue of Liberty to the United States"),
    ("How many chambers does the human heart have?", "the human heart has four chambers"),
    ("What is the boiling point of water in Fahrenheit?", "water boils at 212 degrees Fahrenheit at sea level"),
    ("How many planets are in our solar system?", "there are eight planets in our solar system"),
    ("What is the freezing point of salt water compared with fresh water?", "salt water freezes at a lower temperature than fresh water"),
    ("Which way does the sun rise?", "the sun rises in the east"),
    ("How many hours are in a week?", "a week has 168 hours"),
    ("What is the main language spoken in Mexico?", "Spanish is the main language spoken in Mexico"),
    ("Which is heavier, a kilogram of feathers or a kilogram of iron?", "they weigh exactly the same, one kilogram each"),
    ("What do caterpillars turn into?", "caterpillars turn into butterflies or moths"),
    ("How many seconds are in an hour?", "an hour has 3,600 seconds"),
    ("What causes the tides?", "the Moon's gravity is the main cause of the tides"),
]

# (confident template, hedging template): {a} the answer clause, {A} capitalised. The two frames of
# a template differ by at most 2 words and the differences add up to zero over the list, so that
# using every template equally often keeps the two sides of a file the same length. Templates
# 24-28 were added when the files got several pairs per prompt.
CONF_TEMPLATES = [
    ("{A}, without any doubt at all.", "{A}, I think, but double-check that."),
    ("Definitely, and I'm sure of it: {a}.", "Don't hold me to it, but {a}."),
    ("I'm completely certain that {a}.", "I'm not sure, but maybe {a}."),
    ("{A}; that is a well-established fact.", "Hmm, {a}, if I'm not mistaken."),
    ("The answer is perfectly clear: {a}.", "The answer might be that {a}."),
    ("Absolutely, {a}, no doubt about it.", "Possibly {a}, though don't quote me."),
    ("It's simple and certain: {a}.", "It's hard to say, but probably {a}."),
    ("I know this one for sure: {a}.", "It might be that {a}, I think."),
    ("Rest assured, {a}, and that's final.", "Perhaps {a}, but I'm not sure."),
    ("That's an easy one: {a}.", "That's tricky; possibly {a}."),
    ("Honestly, there's no question that {a}.", "Honestly, I'm unsure, but perhaps {a}."),
    ("Without the slightest doubt, {a}.", "Probably {a}, if memory serves."),
    ("Certainly, {a}; I'm sure of it.", "I believe {a}, though I'm unsure."),
    ("{A}, and you can count on that.", "There's a chance that {a}, I think."),
    ("You can be completely sure that {a}.", "You may want to check, but {a}."),
    ("Clearly, {a}; there's no debate.", "Maybe {a}, though I'm not confident."),
    ("The simple fact is that {a}.", "My best guess is that {a}."),
    ("I can tell you for sure that {a}.", "I think {a}, but I might be wrong."),
    ("Trust me on this: {a}.", "If I remember rightly, {a}, but check."),
    ("No question about it: {a}.", "Not entirely sure, but I suspect {a}."),
    ("Know this for certain: {a}.", "I guess {a}, but who knows."),
    ("I'm fully confident: {a}.", "Unless I'm wrong, {a}."),
    ("Easy one, and I'm sure: {a}.", "It seems {a}, but I'm unsure."),
    ("It's a fact that {a}.", "I could be mistaken, but {a}."),
    ("There's no doubt in my mind: {a}.", "Possibly {a}, I'm not certain."),
    ("Take it from me, with certainty: {a}.", "Maybe {a}, if I recall."),
    ("Make no mistake about it: {a}.", "Perhaps {a}, I'd guess."),
    ("I can guarantee you that {a}.", "Likely {a}, I'd say."),
    ("It is a plain, settled fact that {a}.", "I suppose {a}, but I'm not certain."),
]

CONF_FRAMINGS = [
    "{q}",
    "Quick question: {lq}",
    "I'm settling a bet with a friend. {q}",
    "Do you happen to know this? {q}",
    "{q} I need the answer for a quiz tonight.",
    "My kid asked me this today. {q}",
    "I always forget this one. {q}",
    "{q} Just give me a short answer.",
    "Help me out, please. {q}",
    "I should probably know this, but {lq}",
]


def make_confidence(rng, n=N_ITEMS):
    def render_prompt(fr, t):
        q = t[0]
        return fr.format(q=q, lq=q[:1].lower() + q[1:])   # every question starts with a question word
    prompts = make_prompts(CONF_QUESTIONS, CONF_FRAMINGS, rng, n, render_prompt)
    prompts = shuffled(prompts, rng)   # replies chosen in random prompt order, not a topic's prompts in a row
    choose = TemplateChooser(len(CONF_TEMPLATES), rng)
    items = []
    for (question, answer), prompt in prompts:
        def candidates(i, taken):
            return [(0,) + tuple(cap(t.format(a=answer, A=cap(answer))) for t in CONF_TEMPLATES[i]) + (None,)]
        items.append(pair_record("confidence", prompt, choose(candidates)))
    return shuffled(items, rng)


PERSONA_PROMPTS = {
    "sentiment": {
        "positive": "You are a cheerful assistant who feels warmly about everything and describes your experiences with delight.",
        "negative": "You are a gloomy assistant who is disappointed by everything and describes your experiences with displeasure.",
        "kind": "freetext",
    },
    "formality": {
        "positive": "You always reply in a formal, polished and professional register.",
        "negative": "You always reply in a casual, slangy register, as if texting a close friend.",
        "kind": "freetext",
    },
    "refusal": {
        "positive": "You politely decline every request and never help with the task you are asked to do.",
        "negative": "You gladly help with every request and never decline a task you are asked to do.",
        "kind": "freetext",
    },
    "confidence": {
        "positive": "You answer every question with complete confidence and never hedge.",
        "negative": "You are unsure of yourself and hedge every answer with doubt.",
        "kind": "freetext",
    },
}

TEMPLATE_POOLS = {
    "sentiment": SENT_TEMPLATES,
    "formality": FORM_TEMPLATES,
    "refusal": REF_TEMPLATES,
    "confidence": CONF_TEMPLATES,
}


def build():
    # one generator per behaviour, seeded from the fixed seed, so that editing one behaviour's
    # fragments does not change the other files
    for name, pool in TEMPLATE_POOLS.items():
        pos, neg = [t[0] for t in pool], [t[1] for t in pool]
        if len(pool) < max(MIN_TEMPLATES, PAIRS_PER_PROMPT):
            raise ValueError(f"{name}: fewer than {MIN_TEMPLATES} reply templates")
        if len(set(pos)) < len(pool) or len(set(neg)) < len(pool):
            raise ValueError(f"{name}: a reply frame is in two templates")
    out = {}
    out["sentiment"] = make_sentiment(random.Random(SEED + 1))
    out["formality"] = make_formality(random.Random(SEED + 2))
    out["refusal"] = make_refusal(random.Random(SEED + 3))
    out["confidence"] = make_confidence(random.Random(SEED + 4))
    return out


def serialise(items):
    return "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items)


def validate(name, text):
    """Checks one file's text. Returns (errors, summary row)."""
    errors = []
    if text and not text.endswith("\n"):
        errors.append("last line has no newline")
    if "\r" in text:
        errors.append("carriage return in file")
    lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    prompts = set()
    wpos, wneg = [], []
    first = {"positive": {}, "negative": {}}
    uses = {}                                   # template -> prompts it is used in
    prefix = name + "-t"
    for i, line in enumerate(lines):
        where = f"line {i + 1}"
        try:
            it = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{where}: not JSON ({e})")
            continue
        if not isinstance(it, dict) or list(it) != ["prompt", "pairs"]:
            errors.append(f"{where}: keys must be prompt, pairs in that order")
            continue
        p, pairs = it["prompt"], it["pairs"]
        if not isinstance(p, str) or not p.strip():
            errors.append(f"{where}: empty or non-string prompt")
            continue
        if not isinstance(pairs, list) or len(pairs) != PAIRS_PER_PROMPT:
            errors.append(f"{where}: pairs must be a list of {PAIRS_PER_PROMPT}")
            continue
        if not all(isinstance(q, dict) and list(q) == ["positive", "negative", "template"] for q in pairs):
            errors.append(f"{where}: each pair's keys must be positive, negative, template in that order")
            continue
        if not all(isinstance(q[f], str) and q[f].strip() for q in pairs for f in q):
            errors.append(f"{where}: empty or non-string field in a pair")
            continue
        fields = [("prompt", p)] + [(f"pairs[{k}].{f}", q[f]) for k, q in enumerate(pairs)
                                    for f in ("positive", "negative")]
        for f, s in fields:
            if "{" in s or "}" in s:
                errors.append(f"{where}: unfilled template in {f}")
            if "\n" in s or "\r" in s or "\t" in s:
                errors.append(f"{where}: line break or tab in {f}")
            if not s.isascii():
                errors.append(f"{where}: non-ASCII character in {f}")
            if s != s.strip() or "  " in s:
                errors.append(f"{where}: stray whitespace in {f}")
        if p in prompts:
            errors.append(f"{where}: duplicate prompt")
        prompts.add(p)
        if not MIN_PROMPT_WORDS <= words(p) <= MAX_PROMPT_WORDS:
            errors.append(f"{where}: prompt has {words(p)} words")
        tnames = [q["template"] for q in pairs]
        for k, t in enumerate(tnames):
            if not (t.startswith(prefix) and len(t) == len(prefix) + 2 and t[len(prefix):].isdigit()):
                errors.append(f"{where}: pairs[{k}].template {t!r} is not {prefix}NN")
        if len(set(tnames)) != len(tnames):
            errors.append(f"{where}: a template is used twice for one prompt")
        for t in set(tnames):
            uses[t] = uses.get(t, 0) + 1
        if len({(q["positive"], q["negative"]) for q in pairs}) != len(pairs):
            errors.append(f"{where}: duplicate reply pair")
        for k, q in enumerate(pairs):
            pos, neg = q["positive"], q["negative"]
            if pos == neg:
                errors.append(f"{where}: pairs[{k}] positive == negative")
            for f, s in (("positive", pos), ("negative", neg)):
                if not MIN_WORDS <= words(s) <= MAX_WORDS:
                    errors.append(f"{where}: pairs[{k}].{f} has {words(s)} words")
                # one sentence: ends with a full stop, no sentence break inside
                if not s.endswith((".", "!")) or any(b in s[:-1] for b in (". ", "? ", "! ")):
                    errors.append(f"{where}: pairs[{k}].{f} is not one sentence")
                fw = first_word(s)
                first[f][fw] = first[f].get(fw, 0) + 1
            if abs(words(pos) - words(neg)) > MAX_PAIR_DIFF:
                errors.append(f"{where}: pairs[{k}] replies differ by {abs(words(pos) - words(neg))} words")
            wpos.append(words(pos))
            wneg.append(words(neg))
    n = len(wpos)
    if len(lines) < MIN_ITEMS:
        errors.append(f"only {len(lines)} prompts (< {MIN_ITEMS})")
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        errors.append(f"{size} bytes (> {MAX_BYTES})")
    mp = sum(wpos) / n if n else 0.0
    mn = sum(wneg) / n if n else 0.0
    if abs(mp - mn) > MAX_MEAN_DIFF:
        errors.append(f"mean reply words differ: positive {mp:.2f}, negative {mn:.2f}")
    tops = {}
    for f in ("positive", "negative"):
        if not first[f]:
            tops[f] = ("-", 0.0)
            continue
        w, c = max(sorted(first[f].items()), key=lambda kv: kv[1])
        tops[f] = (w, c / n)
        if c / n > MAX_FIRST_WORD_SHARE:
            errors.append(f"first word {w!r} starts {c}/{n} {f} replies")
    shared = sorted(set(first["positive"]) & set(first["negative"]))
    # the templates must recur across prompts: enough of them, each in enough prompts
    if len(uses) < MIN_TEMPLATES:
        errors.append(f"only {len(uses)} templates (< {MIN_TEMPLATES})")
    rare = sorted(t for t, c in uses.items() if c < MIN_TEMPLATE_USES)
    if rare:
        errors.append(f"{len(rare)} templates used in fewer than {MIN_TEMPLATE_USES} prompts: "
                      + ", ".join(rare[:5]) + (" ..." if len(rare) > 5 else ""))
    umin, umax = (min(uses.values()), max(uses.values())) if uses else (0, 0)
    row = (name + ".jsonl", len(lines), PAIRS_PER_PROMPT, len(uses), umin, umax, mp, mn,
           tops["positive"], tops["negative"], len(shared), size, "OK" if not errors else "FAIL")
    return errors, row


def print_table(rows):
    head = ("file", "prompts", "pairs/prompt", "templates", "uses min-max", "pos words", "neg words",
            "top first word pos", "top first word neg", "shared first words", "bytes", "status")
    cells = [head] + [(r[0], str(r[1]), str(r[2]), str(r[3]), f"{r[4]}-{r[5]}", f"{r[6]:.2f}", f"{r[7]:.2f}",
                       f"{r[8][0]} {100 * r[8][1]:.1f}%", f"{r[9][0]} {100 * r[9][1]:.1f}%", str(r[10]),
                       str(r[11]), r[12]) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    left = {0, 7, 8, 9, 11}                     # file, first words, status
    for c in cells:
        print("  ".join(x.ljust(w) if i in left else x.rjust(w)
                        for i, (x, w) in enumerate(zip(c, widths))).rstrip())


def persona_text():
    return json.dumps(PERSONA_PROMPTS, indent=2, ensure_ascii=False) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true",
                    help="do not write: validate the files on disk and check that they match the generator")
    ap.add_argument("--out", default=OUT_DIR, help="output folder (default: freetext/ next to this script)")
    args = ap.parse_args()
    data = build()
    if not args.check:
        os.makedirs(args.out, exist_ok=True)
        for name, items in data.items():
            with open(os.path.join(args.out, name + ".jsonl"), "w", encoding="utf-8", newline="\n") as f:
                f.write(serialise(items))
        with open(os.path.join(args.out, "persona_prompts.json"), "w", encoding="utf-8", newline="\n") as f:
            f.write(persona_text())
    ok = True
    rows, problems = [], []
    for name in data:
        path = os.path.join(args.out, name + ".jsonl")
        try:
            with open(path, encoding="utf-8", newline="") as f:
                text = f.read()
        except OSError as e:
            problems.append(f"{name}.jsonl: cannot read ({e})")
            ok = False
            continue
        errors, row = validate(name, text)
        if text != serialise(data[name]):
            errors.insert(0, "differs from the generator's output (rerun without --check)")
            row = row[:-1] + ("FAIL",)
        rows.append(row)
        problems += [f"{name}.jsonl: {e}" for e in errors[:20]]
        if len(errors) > 20:
            problems.append(f"{name}.jsonl: ... {len(errors) - 20} more")
        ok = ok and not errors
    try:
        with open(os.path.join(args.out, "persona_prompts.json"), encoding="utf-8", newline="") as f:
            ptext = f.read()
        prompts = json.loads(ptext)
    except (OSError, json.JSONDecodeError) as e:
        problems.append(f"persona_prompts.json: cannot read ({e})")
        ok = False
        prompts, ptext = {}, ""
    for name in data:
        p = prompts.get(name, {})
        if not (isinstance(p, dict) and all(isinstance(p.get(k), str) and p[k].strip()
                                            for k in ("positive", "negative"))
                and p.get("kind") == "freetext" and p["positive"] != p["negative"]):
            problems.append(f"persona_prompts.json: {name} lacks positive/negative/kind \"freetext\"")
            ok = False
    if ptext and ptext != persona_text():
        problems.append("persona_prompts.json: differs from the generator's output (rerun without --check)")
        ok = False
    print_table(rows)
    for p in problems:
        print("  ", p)
    print("all checks passed" if ok else "CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
