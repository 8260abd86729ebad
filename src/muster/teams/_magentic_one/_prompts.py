"""What the orchestrator asks its model: fact sheet, plan, progress ledger, re-plan, final answer.

The wording is muster's own. What matters for compatibility is the shape of the answers
(free text for facts and plans, a JSON object with five ``{reason, answer}`` entries for
the progress ledger) and the ``{task}`` placeholder of the final-answer prompt, which
users may replace.
"""

from __future__ import annotations

__all__ = [
    "FACTS_PROMPT",
    "FACTS_UPDATE_PROMPT",
    "FINAL_ANSWER_PROMPT",
    "LEDGER_RETRY_PROMPT",
    "PLAN_PROMPT",
    "PLAN_UPDATE_PROMPT",
    "PROGRESS_LEDGER_PROMPT",
    "TASK_LEDGER_PROMPT",
]

FACTS_PROMPT = """We have been given the request below. Before planning, take stock of what we know.

Request:

{task}

Write a fact sheet with exactly these four headings and nothing else (no plan yet):

    1. GIVEN OR VERIFIED FACTS - facts or figures stated in the request itself (there may be none)
    2. FACTS TO LOOK UP - facts we must find, and where exactly to find them
    3. FACTS TO DERIVE - facts to work out by reasoning, computation or simulation
    4. EDUCATED GUESSES - what memory, hunches and reasonable guesses suggest
"""

PLAN_PROMPT = """Thank you. These are the team members available for the request:

{team}

Given the team and the fact sheet, write a short bullet-point plan for the request. Involve
only the members whose skills the request actually needs."""

TASK_LEDGER_PROMPT = """
The request we are working on:

{task}

The team working on it:

{team}

The fact sheet so far:

{facts}

The plan to follow as closely as possible:

{plan}
"""

PROGRESS_LEDGER_PROMPT = """
The request we are working on:

{task}

The team working on it:

{team}

Review the conversation so far and answer, with a short reason for each answer:

    - is_request_satisfied: has the request been completely and successfully addressed? (true/false)
    - is_in_loop: are we repeating the same requests or getting the same answers again? (true/false)
    - is_progress_being_made: are recent messages adding value? (true when just starting; false when
      stuck or blocked, for example unable to read a file we need)
    - next_speaker: who should act next? One of: {names}
    - instruction_or_question: what to tell that member, addressed to them directly, with every
      detail they need

Answer with one JSON object and nothing else, in exactly this shape:

    {{
        "is_request_satisfied": {{"reason": string, "answer": boolean}},
        "is_in_loop": {{"reason": string, "answer": boolean}},
        "is_progress_being_made": {{"reason": string, "answer": boolean}},
        "next_speaker": {{"reason": string, "answer": string (one of: {names})}},
        "instruction_or_question": {{"reason": string, "answer": string}}
    }}
"""

LEDGER_RETRY_PROMPT = """That answer could not be used: {error}
Reply again with only the JSON object, in the shape asked for."""

FACTS_UPDATE_PROMPT = """Reminder of the request:

{task}

We are not progressing as well as we should, but we have probably learned something. Rewrite the
fact sheet below with what we now know: add new guesses, promote guesses that turned out true to
verified facts, revise any section that needs it. Add or revise at least one educated guess, and
say why.

The current fact sheet:

{facts}
"""

PLAN_UPDATE_PROMPT = """Say briefly what went wrong (the root cause), then write a new short bullet-point plan
that works around it and does not repeat the same mistakes. Use only this team; nobody else can be
contacted:

{team}
"""

FINAL_ANSWER_PROMPT = """
The task was:
{task}

The task is complete, and the messages above are the conversation that completed it.

From what was found, give the final answer to the original request, addressed to the user.
"""
