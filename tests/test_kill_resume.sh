#!/usr/bin/env bash
# test_kill_resume.sh — the fast part of the crash-consistency check in every test run: two
# SIGKILL-and-resume trials (one train-transformer, one multi-seed train-sae) must give final
# checkpoints identical in every dataset to an uninterrupted run.  The full 20-trial version:
# tests/reliability/kill_resume.sh <husai> 20.
set -u
out=$(bash "${HUSAI_SOURCE_DIR:?}/tests/reliability/kill_resume.sh" "${HUSAI_BIN:?}" 2 2>&1); st=$?
echo "$out" | tail -3
if [ "$st" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit "$st"
