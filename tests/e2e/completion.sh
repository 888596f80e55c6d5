#!/usr/bin/env bash
# completion.sh - the bash completion (completion/sluice.bash), driven as
# bash drives it: COMP_WORDS and COMP_CWORD set, the function called,
# COMPREPLY read. Commands and options come from the binary's --help; the
# choices of an option and whether it takes a value are checked against
# the parser itself, so the completion cannot drift from sluice.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init
T=$SLUICE_TMP
# shellcheck source=../../completion/sluice.bash
. "$SLUICE_SRC/completion/sluice.bash"
mkdir -p "$T/bin" "$T/work/outputs"
ln -s "$SLUICE" "$T/bin/sluice"
PATH=$T/bin:$PATH
cd "$T/work"
touch out.ndjson orders.ndjson.zst shop.db

# completions WORD...: what TAB offers after the words (the last one is the
# word under the cursor, "" for a new one), sorted, space-separated.
completions() {
    (
        set +eu
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _sluice
        printf '%s\n' "${COMPREPLY[@]}"
    ) | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'
}

# offers NAME EXPECTED WORD...: TAB after WORD... offers exactly EXPECTED.
offers() {
    local name=$1 want=$2
    shift 2
    local got
    got=$(completions "$@")
    if [ "$got" = "$want" ]; then
        ok "$name"
    else
        not_ok "$name" "expected: $want" "got:      $got"
    fi
}

# The same parse of a usage text as tests/e2e/man.sh: its long options.
help_long_options() {
    grep -E '^ {2,6}-' | grep -oE '^ +(-[A-Za-z], +)?--[a-z0-9][a-z0-9-]*' |
        grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort | tr '\n' ' ' | sed 's/ $//'
}

commands=$("$SLUICE" --help | awk '/^Commands:/ { f = 1; next } f && /^$/ { exit } f && /^  [a-z]/ { print $1 }' |
    sort | tr '\n' ' ' | sed 's/ $//')

# ---- commands ----------------------------------------------------------------
offers "sluice ex<TAB> completes extract" "extract" sluice ex
offers "sluice <TAB> offers the commands of --help ($commands)" "$commands" sluice ""
offers "sluice --v<TAB>" "--version" sluice --v
offers "sluice help d<TAB>" "daemon discover" sluice help d
offers "a path to the binary works as well" "extract" "$SLUICE" ext

# ---- options -------------------------------------------------------------------
for cmd in $commands; do
    [ "$cmd" = help ] && continue
    want=$("$SLUICE" "$cmd" --help | help_long_options)
    offers "sluice $cmd --<TAB> offers the options of $cmd --help" "$want" sluice "$cmd" --
done
extract_options=$("$SLUICE" extract --help | help_long_options)
offers "sluice extract --pagi<TAB>" "--paging" sluice extract --pagi
offers "sluice extract --pa<TAB>" "$(tr ' ' '\n' <<<"$extract_options" | grep -e '^--pa' | sort |
    tr '\n' ' ' | sed 's/ $//')" sluice extract --pa
offers "an option given once is not offered again" "$(tr ' ' '\n' <<<"$extract_options" |
    grep -e '^--pa' | grep -vx -e --paging | sort | tr '\n' ' ' | sed 's/ $//')" \
    sluice extract shop.db t --paging keyset --pa

# ---- option values -------------------------------------------------------------
offers "--paging <TAB>" "cursor keyset offset" sluice extract shop.db orders --paging ""
offers "--paging k<TAB>" "keyset" sluice extract --paging k
offers "--paging=<TAB>" "cursor keyset offset" sluice extract --paging =
offers "--paging=o<TAB>" "offset" sluice extract --paging = o
offers "--mode <TAB>" "full incremental" sluice extract --mode ""
offers "--compress <TAB>" "gzip none zstd" sluice extract --compress ""
offers "--progress <TAB>" "always auto never" sluice extract --progress ""
offers "-o <TAB> completes file names" "orders.ndjson.zst out.ndjson outputs shop.db" sluice extract -o ""
offers "--output o<TAB>" "orders.ndjson.zst out.ndjson outputs" sluice extract --output o
offers "--state s<TAB>" "shop.db" sluice extract --state s
offers "--where <TAB> offers nothing (SQL)" "" sluice extract --where ""
offers "SOURCE completes file names" "shop.db" sluice extract sh
offers "after an option's value, a positional is a file name again" "shop.db" \
    sluice extract --paging keyset sh

# Which options take a value, and the choices of those with fixed choices,
# as the parser has them: it says "--opt needs a value" or "--opt takes no
# value", and names its choices ("expected keyset|offset|cursor") when
# given a bad one.
for cmd in $commands; do
    [ "$cmd" = help ] && continue
    wrong=""
    for o in $(_sluice_options "$SLUICE" "$cmd"); do
        name=${o%=}
        case $o in
        *=)
            err=$("$SLUICE" "$cmd" "$name" 2>&1 </dev/null || true)
            grep -q -e "$name needs a value" <<<"$err" || wrong="$wrong $name(takes a value? $err)"
            err=$("$SLUICE" "$cmd" "$name" @@ 2>&1 </dev/null || true)
            parser=""
            if [[ $err =~ expected\ ([a-z]+(\[:LEVEL\])?((\||,\ |\ or\ )[a-z]+(\[:LEVEL\])?)+),\ got ]]; then
                parser=$(sed -e 's/\[:LEVEL\]//g' -e 's/ or /|/g' -e 's/, /|/g' <<<"${BASH_REMATCH[1]}" |
                    tr '|' '\n' | sort | tr '\n' ' ' | sed 's/ $//')
            fi
            offered=$(for c in $(_sluice_choices "$name"); do echo "$c"; done | sort | tr '\n' ' ' | sed 's/ $//')
            [ "$parser" = "$offered" ] || wrong="$wrong $name(parser: '$parser', completion: '$offered')"
            for c in $offered; do
                "$SLUICE" "$cmd" "$name" "$c" --help >/dev/null 2>&1 || wrong="$wrong $name($c refused)"
            done
            ;;
        --*)
            err=$("$SLUICE" "$cmd" "$name=x" 2>&1 </dev/null || true)
            grep -q -e "$name takes no value" <<<"$err" || wrong="$wrong $name(takes no value? $err)"
            ;;
        esac
    done
    if [ -z "$wrong" ]; then
        ok "$cmd: the completion knows which options take a value, and their choices, as the parser does"
    else
        not_ok "$cmd: the completion knows which options take a value, and their choices, as the parser does" "$wrong"
    fi
done

# ---- stream names, from a command that lists them -------------------------------
# No command of this build lists --list-streams; a stand-in binary checks
# the completion's side of that contract.
cat >"$T/fake-sluice" <<'EOF'
#!/usr/bin/env bash
case "$*" in
--help) printf 'Usage: sluice COMMAND\n\nCommands:\n  run MANIFEST [STREAM...]   run\n\n' ;;
"run --help")
    printf 'Usage: sluice run MANIFEST [STREAM...]\n\nOptions:\n'
    printf '      --due                only due streams\n'
    printf '      --log-format FORMAT  text or json\n'
    printf '      --list-streams       the names of the streams, one a line\n' ;;
"run streams.yaml --list-streams") printf 'orders\ncustomers\norder_lines\n' ;;
*) exit 2 ;;
esac
EOF
chmod +x "$T/fake-sluice"
offers "run MANIFEST <TAB> offers the streams --list-streams prints" "customers order_lines orders" \
    "$T/fake-sluice" run streams.yaml ""
offers "run MANIFEST --due --log-format json ord<TAB>" "order_lines orders" \
    "$T/fake-sluice" run streams.yaml --due --log-format json ord
offers "run MANIFEST: a stream after another" "customers" \
    "$T/fake-sluice" run streams.yaml orders c
offers "run <TAB>: MANIFEST is a file name" "shop.db" "$T/fake-sluice" run sh
finish
