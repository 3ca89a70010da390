"""Sentence banks of the offline composer, one tuple per slot of a draft.

Domain-neutral on purpose: a sentence here must be true of a garden planner, an invoicing app, a
board game or a food bank alike. Concrete facts come only from the request, through the
placeholders: {topic} and {topic2} (the campaign's keywords as noun phrases, plural or mass, so
they sit in object position or before a past-tense verb; never a keyword naming people, so a
{topic} slot may be written for a task or a thing), {people} (a keyword naming people:
"volunteers", "adult learners", only in the *_PEOPLE banks, written for people), {product}
(the product's name and description), {asked} (what a regeneration's feedback asked to cover),
{quote} (a short clause of the user's context, quoted as theirs), {sub} (the subreddit).
Numbers are time spans only ({months}, {weeks}, {hours}, written as words and the same
everywhere in one draft). None may contain a machine tell, a link, a pitch or a verbless
sentence: tests run validation, the writing findings and LanguageTool over composed drafts.
"""

PS_TITLES = (
    "Anyone else losing hours every week to {topic}?",
    "{topic} took more out of me this year than I'd like to admit",
    "I underestimated {topic}, and it bit me",
    "How much time do you lose to {topic}?",
    "{weeks} weeks of chaos with {topic}, and what finally helped",
    "I was stuck on {topic} for {months} months, and this is what changed",
    "Nobody warned me about {topic}",
    "Why the usual advice on {topic} didn't work for me",
    "I finally got {topic} under control after a rough few months",
    "The boring fix that sorted out {topic} for me",
    "What I wish I'd known about {topic} a year ago",
    "{topic} kept eating my weeks until I changed one thing",
    "I spent {months} months fighting {topic}, and here's what worked",
    "Is it just me, or is dealing with {topic} harder than it looks?",
)
PS_OPEN = (
    "I've been losing far more time to {topic} than I want to admit.",
    "Dealing with {topic} took up most of my last {weeks} weeks, and I'm still annoyed about it.",
    "Something about {topic} has been bugging me for {months} months now.",
    "I keep running into the same wall with {topic}.",
    "Everything around {topic} felt harder than it should have this year.",
    "I've been stuck on the same problem with {topic} for a while.",
    "I put off dealing with {topic} for way too long.",
    "For about {months} months, {topic} quietly ate a chunk of every week.",
)
PS_PAIN = (
    "It started small, with a bit of extra effort here and there.",
    "Then it turned into the thing I thought about before anything else each week.",
    "Every time I thought I had it sorted, something new came up.",
    "The worst part was never knowing whether I had missed something.",
    "I kept telling myself I'd deal with it properly next week.",
    "What bothered me most was how much of it was the same work over and over.",
    "It wasn't hard, exactly, just constant.",
    "By the end of most weeks I had lost a few hours to it without noticing.",
    "I started dreading the part of the week when I had to look at it.",
    "It's the kind of problem that's easy to ignore until it isn't.",
    "Half the effort went into remembering where I had left off.",
    "I'd fix one part, and another part would slip.",
    "Looking back, I spent more energy worrying about it than actually doing it.",
    "Nothing about it was dramatic, which is probably why I let it drag on.",
)
RELATED = (
    "It spilled over into {topic2}, too.",
    "The same thing kept happening with {topic2}.",
    "{topic2} turned out to be part of the same mess.",
    "I ran into much the same thing with {topic2}.",
    "It got tangled up with {topic2} as well.",
)
PS_PEOPLE = (
    "The {people} I talked to had much the same complaint.",
    "It made things harder for the {people} involved, too.",
    "I asked a few {people} about it, and they were just as stuck.",
)
J_PEOPLE = (
    "The {people} I talked to along the way changed my mind more than once.",
    "The {people} I showed it to were more patient with it than I deserved.",
    "Most of what I changed came from talking to {people}.",
)
F_PEOPLE = (
    "If you work with {people}, what would they say about this?",
    "How do the {people} you know deal with this?",
    "What do {people} around you actually want from this?",
)
QUOTE = (
    'In my own notes I put it as "{quote}", and that still sums it up.',
    'When I wrote it down for myself, it came out as "{quote}".',
    'My note to myself just says "{quote}", which is about right.',
    'The short version, as I wrote it to a friend, was "{quote}".',
)
PS_FAILED_INTRO = (
    "I tried the usual advice first.",
    "I did try the obvious fixes before anything else.",
    "Before changing anything big, I went through every fix I could find.",
    "The standard answers didn't hold up for me.",
    "None of the common suggestions stuck.",
)
PS_FAILED = (
    "Doing it by hand worked right up until the first busy week.",
    "A detailed plan looked great on paper and lasted about a week.",
    "Most of the advice I found assumed I had far more time than I do.",
    "Everything I tried needed me to remember to use it, and that was the actual problem.",
    "Setting reminders helped for a while, and then I started ignoring them.",
    "Asking friends got me a lot of opinions and no real fix.",
    "I read a lot of threads in r/{sub}, and most of the advice didn't fit my situation.",
    "Simplifying things helped a little but didn't solve the main problem.",
    "Doing more of it at once just moved the mess to a different day.",
)
PS_FIX_PRODUCT = (
    "What finally worked for me was {product}.",
    "In the end I switched to {product}, and the problem mostly went away.",
    "These days I use {product}, and that part of my week is quieter.",
    "The fix, for me, was {product}.",
    "What stuck in the end was {product}, mostly because I don't have to think about it.",
    "I ended up with {product}, and I haven't gone back.",
)
PS_FIX_PLAIN = (
    "What fixed it was boring: one fixed slot every week and no exceptions.",
    "The fix turned out to be a short checklist and a calendar block, nothing clever.",
    "What worked was deciding the rules up front and writing them where I'd see them.",
    "Now I deal with it the same day it comes up, and the pile never forms.",
    "What helped most was giving it a fixed slot in my week and protecting that slot.",
    "A plain checklist ended up working better than anything else I tried.",
)
J_TITLES = (
    "{months} months of working on {topic}, mistakes included",
    "What happened after I got fed up with {topic}",
    "My {months}-month diary of working on {topic}",
    "I kept notes while working on {topic}, and this is the honest version",
    "The long way round with {topic}",
    "What {months} months of working on {topic} taught me",
    "A timeline of my {months} months on {topic}, setbacks included",
    "An honest log of my first {months} months on {topic}",
    "{months} months with {topic}: the slow parts and the mistakes",
    "Looking back on {months} months of {topic}",
    "I gave {topic} a real try for {months} months, and here's how it went",
    "My first {months} months on {topic}, written down before I forget",
)
J_INTRO = (
    "About {months} months ago I started working on {topic}, mostly for myself.",
    "This is a write-up of the last {months} months I spent on {topic}.",
    "I kept notes while I worked on {topic} this year, so here's the honest version.",
    "Around {months} months ago I got fed up with {topic} and started doing something about it.",
    "I've been chipping away at {topic} for {months} months now.",
    "My plan was to spend two weekends on {topic}, and it took {months} months.",
)
J_MILESTONE = (
    "{when} I had a rough first version and a long list of things I wanted to change.",
    "{when} I was spending about {hours} hours a week on it.",
    "{when} I showed it to a few people I trust and threw out half my assumptions.",
    "{when} I cut my plan down to the three things that mattered most.",
    "{when} I started over, because the first approach didn't hold up.",
    "{when} I finally had something I wasn't embarrassed to show anyone.",
    "{when} I moved from the odd evening to two fixed days a week.",
)
J_DETAIL = (
    "Most of that time went into things nobody noticed.",
    "The feedback was kind, which in hindsight was the problem.",
    "It was slower than I hoped and faster than I feared.",
    "I kept a list of every complaint, and it grew quickly.",
    "I realized I was solving the problem I had a year ago.",
    "Nothing about it was pretty, but it worked.",
    "I tried three different ways to explain it before one landed.",
    "Everything happened in the evenings, after everything else was done.",
)
J_SETBACK = (
    "Then it went sideways for a while.",
    "Not everything worked, and one change I was sure about was a mistake.",
    "Then I burned out and didn't touch it for {weeks} weeks.",
    "At one point I seriously considered giving up on it.",
    "The setback nobody warned me about was how much time the small stuff took.",
    "I spent {weeks} weeks on an idea that almost nobody cared about.",
)
J_SETBACK_DETAIL = (
    "I was frustrated for a few days and then went back to it.",
    "It stung, but it showed me what actually mattered.",
    "Looking back, the warning signs were there for weeks.",
    "That was when I learned to make smaller changes.",
    "I still don't fully know what went wrong there.",
    "I almost left this part out, but it's the most honest bit.",
    "It forced me to cut the parts I was proudest of.",
    "I kept going mainly out of stubbornness.",
)
J_NOW = (
    "These days it mostly runs itself, and I spend about {hours} hours a week on it.",
    "Right now it's small, but it does what I needed it to do.",
    "It's been steady for {weeks} weeks, which is the longest stretch so far.",
    "Where it stands now is modest, and I'm fine with that.",
    "It's not a big success story, but it's real and it works.",
)
J_LESSON = (
    "The biggest thing I learned was to ask people before building anything.",
    "Looking back, most of my early time went into the wrong problems.",
    "I learned that slow and steady beat every clever shortcut I tried.",
    "I realized the setbacks taught me more than the wins did.",
    "What surprised me most was how much of this was patience.",
    "The lesson for me was to keep the scope tiny for much longer.",
)
J_PRODUCT = (
    "For context, what all this turned into is {product}.",
    "It ended up as {product}, mostly shaped by those early conversations.",
    "What came out of it is {product}.",
    "These days it's {product}, for what it's worth.",
    "The result is {product}, still rough in places.",
    "The version I use today is {product}.",
)
F_TITLES = (
    "Tear apart my approach to {topic}",
    "Be honest, where does my plan for {topic} fall apart?",
    "Looking for criticism on how I handle {topic}",
    "What am I missing about {topic}?",
    "I need a reality check on {topic}",
    "Poke holes in how I deal with {topic}",
    "You know {topic} better than me, so what would you change?",
    "Is my approach to {topic} as flawed as I suspect?",
    "Roast my plan for {topic}",
    "Asking r/{sub} about {topic}",
    "Where does my thinking on {topic} go wrong?",
    "Help me find the flaw in my approach to {topic}",
    "I've handled {topic} the same way for {months} months, so what am I missing?",
)
F_INTRO = (
    "I'd like a reality check from people here who know more about {topic} than I do.",
    "I've been working on an approach to {topic}, and I'm not sure that it holds up.",
    "You all know {topic} better than I do, so I'm asking before I sink more time in.",
    "I'm a bit stuck on {topic}, and I think r/{sub} is the right place to ask.",
    "Before I commit to anything around {topic}, I want experienced people to find the holes.",
    "I have a plan for {topic} and a nagging feeling that it has a big flaw.",
    "I'm confused about {topic} and would rather ask than guess.",
)
F_WHAT = (
    "What I have so far is rough, and I know it.",
    "My current setup grew by accident over about {months} months.",
    "I've sketched a plan, but I've only tested it on my own situation.",
    "My approach is simple on paper and messy in practice.",
    "I've been doing it the same way for {months} months without questioning it.",
    "I wrote the whole process down last week, and it was longer than I expected.",
    "I put together a first version, and it feels fragile.",
)
F_UNSURE = (
    "The part I'm least sure about is whether anyone would change their routine for this.",
    "I can't tell if I'm solving a real problem or just my own quirk.",
    "I worry that I've overcomplicated it.",
    "I'm also unsure whether the order of the steps makes sense.",
    "My gut says something is off, but I can't see what.",
    "I have no idea whether this works for more than a handful of people.",
    "I might be missing something obvious to anyone with more experience.",
    "I'm not confident that the time it takes is worth what it saves.",
    "I don't know which part people would find annoying first.",
)
F_RELATED = (
    "The part I understand least is how this fits with {topic2}.",
    "I also can't tell where {topic2} fits into all this.",
    "I suspect I'm not giving {topic2} enough thought.",
)
F_QUESTIONS_LEAD = (
    "Here are the questions I keep going back and forth on.",
    "I have a few specific questions.",
    "These are the things I can't answer myself.",
    "I'd really like your take on a few specific things.",
    "Specific questions work better than vague ones, so here are mine.",
)
F_QUESTIONS = (
    "How do you handle {topic} today, and what made you stick with it?",
    "Where would this approach break for you?",
    "What would you need to see before trusting something like this?",
    "If you've tried something similar, what made you stop?",
    "Is there an obvious flaw I'm too close to see?",
    "What would you cut first?",
    "Which part of this sounds like more work than it's worth?",
    "What did you get wrong about {topic} when you started?",
    "Would this hold up during a busy month for you?",
    "What's the first thing you'd change?",
)
F_PRODUCT = (
    "For context, what I'm asking about is {product}.",
    "The thing behind all this is {product}, and it's still early.",
    "It's {product}, in case that changes your answer.",
    "What I've got so far is {product}, and it's rough.",
    "To be specific, it's {product}.",
)
F_CRITICISM = (
    "Please be blunt, since I'd rather hear it now than in another {months} months.",
    "Criticism is more useful to me than encouragement right now.",
    "Tell me what's wrong with it, not what's nice about it.",
    "Harsh answers are welcome, because I asked for them.",
    "If you think the whole idea is wrong, I want to hear that too.",
    "I'd much rather get picked apart here than find out the hard way.",
    "Don't hold back, because polite answers don't help me much.",
)
ASKED = (
    "What I'd really like to hear about is {asked}.",
    "I'm especially curious about {asked}.",
    "Most of all, I'd like to learn about {asked} from people who have done it.",
)
ASKED_TITLES = (
    "Curious about {asked}",
    "A question for r/{sub} about {asked}",
    "What do you know about {asked} that I don't?",
    "I'd love to hear about {asked}",
)
EMOTION = (
    "I was more stressed about this than I let on to anyone.",
    "If I'm honest, I felt pretty overwhelmed by it.",
    "It made me anxious in a way I didn't expect.",
    "I was worried that I was the only one struggling with it.",
    "Some days it left me completely drained.",
    "It's embarrassing how long I let it slide.",
    "I felt stuck and a bit silly for a while.",
)
# Tails that lengthen a title the community finds too short (after the title's own punctuation).
TITLE_TAILS = (
    "(honest answers welcome)",
    "(a long one, and honest answers are very welcome)",
    "(a long post, sorry, and honest answers from people who have been there are very welcome)",
)
