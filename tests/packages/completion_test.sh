#!/usr/bin/env bash
# dovectl's bash completion, run in bash as a shell runs it on TAB: COMP_WORDS and COMP_CWORD
# set, the function `complete` registered called, COMPREPLY checked.
# Usage: tests/packages/completion_test.sh DOVECTL [SCRIPT]   (SCRIPT: a completion file;
# default: what `DOVECTL completion bash` prints)
set -euo pipefail
dovectl=$1
if [[ $# -ge 2 ]]; then
  # shellcheck source=/dev/null
  source "$2"
else
  # shellcheck source=/dev/null
  source <("$dovectl" completion bash)
fi

registered=$(complete -p dovectl)
[[ $registered == "complete -F _dovectl dovectl" ]] ||
  { echo "FAIL: complete -p dovectl says: $registered"; exit 1; }

failures=0
# expect "WANTED COMPLETIONS" WORD... : the last word is the one being completed.
expect() {
  local wanted=$1 function
  shift
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMP_LINE="$*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  function=$(complete -p dovectl | awk '{print $3}')
  "$function" dovectl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  if [[ "${COMPREPLY[*]}" == "$wanted" ]]; then
    echo "ok: '$*' -> '$wanted'"
  else
    echo "FAIL: '$*' -> '${COMPREPLY[*]}', expected '$wanted'"
    failures=$((failures + 1))
  fi
}

expect "network" dovectl netw
expect "domain" dovectl dom
expect "--port --port-kind" dovectl endpoint create --po
expect "create" dovectl endpoint cr
expect "subnet switch status show" dovectl s
# Global options before the command, their values skipped: `status` is not the command.
expect "list" dovectl --controller status domain li
expect "--output" dovectl -o json network list --outp
# An option's value: nothing from the lists (bash then completes file names).
expect "" dovectl --token-file ""
expect "" dovectl nosuchcommand
exit $((failures > 0))
