"""The deployment drill (``make drill``): the compose topology as real processes, a crash, checks.

nginx balancing three ``muster serve`` replicas, two ``muster worker`` processes,
PostgreSQL, Redis and Prometheus with muster's alert rules, all on 127.0.0.1 in one
temporary folder. The drill posts a bounded load of runs through nginx (some streamed by
SSE clients), SIGKILLs one replica and one worker halfway, restarts them once the alerts
fire, and checks that every accepted run finished exactly once with an intact
transcript, that the SSE clients saw every event exactly once across their reconnections,
and that Prometheus's alerts fired and cleared. See ``docs/drill.md``.

Modules: ``topology`` (the processes), ``postgres`` (the throwaway cluster),
``processes`` (starting and killing children), ``model_server`` (the slow loopback
model), ``clients`` (posting and streaming), ``prometheus`` (its config, the shortened
rules, its API, the alert watch), ``drill`` (the phases), ``verify`` and ``checks`` (the
checks and the report).
"""
