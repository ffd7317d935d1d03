# Prints the candidates zsh's completion system offers for a command line, one per line:
#   zsh capture.zsh DIR_WITH_COMPLETION_FUNCTIONS "mqtt-cli pub --qo"
# It types the line and a TAB into an interactive zsh on a pseudo-terminal (zpty), with compadd
# replaced by one that prints what it is given between two NUL lines.
zmodload zsh/zpty
zpty z zsh -f -i
init="PROMPT=
fpath=($1 \$fpath)
autoload -U compinit; compinit -u -D
null-line () { echo -E - \$'\\0' }
compprefuncs=( null-line )
comppostfuncs=( null-line exit )
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
bindkey '^I' complete-word
compadd () {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd \"\$@\"; return \$?; fi
  typeset -a __hits
  builtin compadd -A __hits \"\$@\"
  [[ -n \$__hits ]] || return
  local h; for h in \$__hits; do echo -E - \$h; done
}
echo ok"
zpty -w z "$init"
local line
repeat 20; do zpty -r z line; [[ $line == ok* ]] && break; done
zpty -w z "$2"$'\t'
integer tog=0
while zpty -r z line; do
  line=${line%$'\n'}; line=${line%$'\r'}
  if [[ $line == *$'\0' ]]; then (( tog++ )) && break || continue; fi
  (( tog )) && echo -E - $line
done
zpty -d z
