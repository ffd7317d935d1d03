# Prints the candidates bash completion offers for a command line:
#   bash complete.bash SCRIPT mqtt-cli pub --qo
# It sources the completion script and calls the function `complete -F` registered for
# mqtt-cli, as bash does on TAB.
source "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
function_name=$(complete -p mqtt-cli | sed -E 's/.*-F ([^ ]+).*/\1/')
COMPREPLY=()
"$function_name" mqtt-cli "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
