"""User-visible text shared by the GitLab note, the Slack messages and the command handlers."""

from __future__ import annotations

from bot.core.types import Category, Verdict

BOT_NAME = "cicd-bot"

# --- verdicts and categories ------------------------------------------------------

VERDICT_LABELS: dict[Verdict, str] = {
    Verdict.caused_by_change: "caused by this change",
    Verdict.flaky: "flaky, retry",
    Verdict.infrastructure: "infrastructure, retry",
    Verdict.broken_on_default_branch: "already broken on {default_branch}",
    Verdict.unknown: "cause unclear",
}

VERDICT_EMOJI: dict[Verdict, str] = {
    Verdict.caused_by_change: "🛠️",
    Verdict.flaky: "🎲",
    Verdict.infrastructure: "🏗️",
    Verdict.broken_on_default_branch: "🚧",
    Verdict.unknown: "❔",
}

CATEGORY_LABELS: dict[Category, str] = {
    Category.build: "build",
    Category.test: "test",
    Category.dependency: "dependency",
    Category.lint: "lint",
    Category.deploy: "deploy",
    Category.infrastructure: "infrastructure",
    Category.timeout: "timeout",
    Category.out_of_memory: "out of memory",
    Category.network: "network",
    Category.configuration: "CI configuration",
    Category.permissions: "permissions",
    Category.unknown: "unknown",
}


def verdict_label(verdict: Verdict | str, default_branch: str = "main") -> str:
    """The short verdict people read, e.g. 'flaky, retry'."""
    try:
        key = Verdict(verdict)
    except ValueError:
        key = Verdict.unknown
    return VERDICT_LABELS[key].format(default_branch=default_branch or "the default branch")


def category_label(category: Category | str) -> str:
    try:
        return CATEGORY_LABELS[Category(category)]
    except ValueError:
        return CATEGORY_LABELS[Category.unknown]


# --- pipeline states ---------------------------------------------------------------

HEADING_FAILED = "❌ Pipeline {pipeline} failed"
HEADING_ANALYSING = "🔎 Pipeline {pipeline} failed, analysing…"
HEADING_ERROR = "⚠️ Pipeline {pipeline} failed, analysis not completed"

ANALYSING = "Analysing the failed jobs…"
ANALYSING_JOB = "analysing…"
ANALYSIS_FAILED = "The analysis could not be completed: {reason}"
ANALYSIS_FAILED_NO_REASON = "The analysis could not be completed, and no reason was recorded."
ANALYSIS_FAILED_HINT = "The failed jobs are listed below; ask again once the cause is fixed."
NOT_ANALYSED = "not analysed: {reason}"
LOG_UNAVAILABLE = "log unavailable: {reason}"
LOG_UNAVAILABLE_EMOJI = "📭"
# Why a failed job's log could not be read (bot/core/log_access.LogProblem values); no model is asked about it.
LOG_PROBLEMS: dict[str, str] = {
    "erased": "erased on {erased}: erasing a job removes its log",
    "permission": "permission denied (GitLab answered {status}): the bot's GitLab user may not read this job's log; "
    "it needs Developer access to the project",
    "redirected": "GitLab answered {status} and sent the log elsewhere; the bot does not follow redirects, "
    "so its token never leaves GitLab",
    "expired": "expired: the job's artifacts expired on {expired} and the log is gone with them",
    "not_found": "not found (GitLab answered {status})",
    "empty": "empty: GitLab returned no log text for this job",
    "not_fetched": "not fetched: GITLAB_AUTO_FETCH_LOGS is off",
    "other": "GitLab answered {status} when asked for the log",
}
NO_FAILED_JOBS = "No failed jobs were found in this pipeline."

FIXED_IN = "✅ Fixed in pipeline {pipeline}"
FIXED_EXPLAINED = "Pipeline {previous} on {ref} had failed; a later pipeline of this merge request passed."
FIXED_WHAT_FAILED = "What had failed:"

ALSO_FAILED = "also: {jobs}"
ALLOWED_TO_FAIL = "Allowed to fail (not blocking): {jobs}"
# The excerpt was read beside the same job's log in a passing pipeline (the baseline).
BASELINE_USED = "log read beside this job's log in passing pipeline {pipeline}: lines that run printed too counted less"
REUSED_ANALYSIS = "same failure as analysis {analysis_id}, answer reused"
REUSED_FROM = "the same failure, with the same values, as in pipeline {pipeline}: answer reused from there (analysis {analysis_id})"

# --- section headings ----------------------------------------------------------------

HEADING_ROOT_CAUSE = "Root cause and how to fix it"
HEADING_FIX_STEPS = "How to fix it"
HEADING_ROOT_CAUSE_SHORT = "Root cause"
HEADING_EVIDENCE = "Log lines {first}–{last}"
HEADING_EVIDENCE_ONE = "Log line {first}"
CONFIDENCE = "confidence {percent}%"
LOG_LINK = "log L{line}"
SEEN_BEFORE = "Seen {count} before, first in pipeline {first}"
SEEN_BEFORE_DEFAULT_BRANCH = "also on the default branch ({branch}) in pipeline {pipeline}"
SEEN_BEFORE_FIXED_BY = "fixed before by {fixed_by}"
MERGE_REQUEST = "Merge request"
COMMIT = "commit"
BY_AUTHOR = "by {author}"
NOTE_SHORTENED = "… note shortened; see the job log for the rest."
TEXT_SHORTENED = "… shortened; see the job log."
IMAGE_REMOVED = "(image removed)"
MORE_IN_THREAD = "Details are in the thread."
SLACK_THREAD_FALLBACK = "Analysis of pipeline #{pipeline_id} in {project}"
SLACK_PART = " (part {part} of {total})"
MORE_JOBS = "… and {count} more"


def times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


# --- footer ---------------------------------------------------------------------

FOOTER_PROVIDER = "Analysed by {provider}{model} · {tokens_in:,} tokens in / {tokens_out:,} out{cached} · ${cost:.4f}"
FOOTER_CACHED = " ({tokens_cached:,} cached)"
FOOTER_NOTE = "Note: {note}"
SLACK_THREAD_LINK = "Discussed in Slack: {link}"
SLACK_THREAD_LABEL = "thread"
MR_NOTE_LINK = "MR note"


def ask_again_gitlab(bot_username: str, example_job: str = "<job>") -> list[str]:
    """The commands people can write in the MR, each meant to be shown as inline code."""
    at = f"@{bot_username}"
    return [
        f"{at} reanalyze",
        f"{at} reanalyze with anthropic",
        f"{at} explain {example_job}",
        f"{at} <your question>",
    ]


ASK_AGAIN_INTRO = "Ask again by replying here:"
ASK_AGAIN_QUESTION = "or mention me with any question about this failure."
ASK_AGAIN_SLACK = "Reply in this thread to ask a follow-up question, or use the buttons below."

# --- Slack buttons ----------------------------------------------------------------

BUTTON_REANALYZE = "🔁 Analyse again"
BUTTON_REANALYZE_WITH = "Ask {provider}"
BUTTON_FEEDBACK_UP = "👍 Helpful"
BUTTON_FEEDBACK_DOWN = "👎 Not helpful"
BUTTON_OPEN_PIPELINE = "Open pipeline"

PROVIDER_NAMES: dict[str, str] = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "azure_openai": "Azure OpenAI",
    "heuristic": "offline rules",
}


def provider_name(provider: str) -> str:
    return PROVIDER_NAMES.get(provider, provider)


# --- acknowledgements ---------------------------------------------------------------

ACK_REANALYZE = "Analysing again with {provider}…"
ACK_FEEDBACK = "Thanks, your feedback was recorded."

# --- refusals ---------------------------------------------------------------------

REFUSAL_NOT_ALLOWED_CHANNEL = (
    "This channel is not allowed to see {project}. Ask an admin to add it to SLACK_CHANNEL_MAP."
)
REFUSAL_UNKNOWN_PIPELINE = "I could not find pipeline {reference}. Use a pipeline URL or `project-path#pipeline-id`."
REFUSAL_ACCESS_LEVEL = "Sorry {user}, only members with Developer access or higher can ask me to analyse again."
REFUSAL_UNKNOWN_PROVIDER = "I don't know the provider {provider!r}. Available: {available}."
REFUSAL_PROVIDER_NOT_CONFIGURED = "{provider} is not set up on this bot (it has no key for it). Available: {available}."
REFUSAL_SHARED_CHANNEL = "I do not answer in channels shared with other workspaces."
REFUSAL_UNKNOWN_WORKSPACE = "This Slack workspace is not allowed to use cicd-bot."
REFUSAL_NO_ANALYSIS = "There is no analysis for this pipeline yet; ask me to analyse it first."

# --- help texts -------------------------------------------------------------------


def help_gitlab(bot_username: str) -> str:
    """The text posted for `@bot help` in a merge request (the commands in inline code, so nobody is pinged)."""
    at = f"@{bot_username}"
    return (
        "**cicd-bot** explains failed pipelines of this merge request.\n\n"
        f"- `{at} reanalyze`: analyse the latest failed pipeline again\n"
        f"- `{at} reanalyze with anthropic`: analyse again with another provider (openai, anthropic, azure_openai, heuristic)\n"
        f"- `{at} explain <job>`: explain one job in more detail\n"
        f"- `{at} <your question>`: ask anything about the failure\n"
        f"- `{at} help`: this text"
    )


# --- the offline analyzer's sentences ---------------------------------------------------

OFFLINE_EXIT = "exit code {code}"
OFFLINE_EXIT_OF = "`{command}`: exit code {code}"
OFFLINE_STEP_FAILED = "`{step}` failed"
OFFLINE_CAUSE = "The log says (line {line}): {statement}"
OFFLINE_MORE_LIKE = "(and more like it)"
OFFLINE_CAUSE_EXIT = "The failing command{command} exited with code {code}{meaning}."
OFFLINE_EXIT_MEANINGS: dict[int, str] = {
    124: "the `timeout` command stopped it",
    126: "the command was found but could not be run (not executable)",
    127: "the command was not found",
    134: "128 + 6, SIGABRT: the process aborted itself on a fatal error of its own",
    137: "128 + 9, SIGKILL: it was killed from outside, usually by the out-of-memory killer at the job's memory limit",
    139: "128 + 11, SIGSEGV: a segmentation fault",
    143: "128 + 15, SIGTERM: it was stopped from outside",
}
# A job its runner stopped for time: what was running and what it printed last (heuristic_stalls).
OFFLINE_STALL_SUFFIX = "while `{command}` ran"
OFFLINE_STALL_LAST_SUFFIX = "last output: `{last}`"
OFFLINE_STALL_COMMAND = "When it was stopped, `{command}` was running (line {line})."
OFFLINE_STALL_LAST = "The last line it printed (line {line}) shows where it was: `{text}`."
OFFLINE_STEP_LOCATION = "Open `{location}`: the line the error points at."
OFFLINE_STEP_REPRODUCE = "Reproduce it locally with the same image and variables: `{command}`."
OFFLINE_STEP_READ = "Read the job log from the first evidence line down to the exit: the error is stated there."
OFFLINE_STEP_MODEL = "For a deeper answer, configure a model provider (a local model server works too) and ask again."
