#!/usr/bin/env bash
# man.sh - the manual and the help agree. Every command `sluice --help`
# lists has its own usage (`sluice CMD --help` = `sluice help CMD`) and a
# subsection in man/sluice.1 whose options are exactly those of its usage;
# the exit codes are the same; every man page under man/ renders with
# `man -l` without a warning. Nothing here names a command or an option:
# both sides are read, so a new command or option fails this test until
# the man page documents it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init
T=$SLUICE_TMP
MAN=$SLUICE_SRC/man/sluice.1
cd "$T"

# The lines of stdin as one line of words.
words() {
    tr '\n' ' ' | sed 's/ *$//'
}

# The options a usage text lists: its lines "  -x, --long ..." and
# "      --long ...", one option per output line.
help_options() {
    grep -E '^ {2,6}-' | grep -oE '^ +(-[A-Za-z], +)?--[a-z0-9][a-z0-9-]*' |
        grep -oE -- '--[a-z0-9][a-z0-9-]*|-[A-Za-z]' | sort -u
}

# The options of one command in the man page: every `Fl X` of the `.It`
# lines in the subsection `.Ss Cm CMD ...` of COMMANDS.
man_options() {
    awk -v want="$1" '
        /^\.Sh / { sh = $2; ss = ""; next }
        /^\.Ss / { w = $2; if (w == "Cm" || w == "Nm") w = $3; ss = w; next }
        sh == "COMMANDS" && ss == want && /^\.It / {
            for (i = 2; i < NF; i++)
                if ($i == "Fl") { t = $(i + 1); gsub(/\\/, "", t); print "-" t }
        }' "$MAN" | sort -u
}

man_commands() {
    awk '/^\.Sh / { sh = $2; next }
         sh == "COMMANDS" && /^\.Ss / { w = $2; if (w == "Cm" || w == "Nm") w = $3; print w }' "$MAN" | sort -u
}

# ---- the commands ---------------------------------------------------------------
"$SLUICE" --help >"$T/overview.txt"
commands=$(awk '/^Commands:/ { f = 1; next } f && /^$/ { exit } f && /^  [a-z]/ { print $1 }' \
    "$T/overview.txt" | sort -u)
if [ -n "$commands" ] && grep -qx extract <<<"$commands"; then
    ok "sluice --help lists the commands: $(words <<<"$commands")"
else
    not_ok "sluice --help lists the commands" "$(cat "$T/overview.txt")"
fi
if [ "$(man_commands)" = "$commands" ]; then
    ok "the man page has a subsection for each command, and no other"
else
    not_ok "the man page has a subsection for each command, and no other" \
        "--help: $(words <<<"$commands")" "man:    $(man_commands | words)"
fi
synopsis=$(awk '/^\.Sh / { sh = $2; next } sh == "SYNOPSIS"' "$MAN")
missing=""
for cmd in $commands; do
    grep -qx "\.Cm $cmd" <<<"$synopsis" || missing="$missing $cmd"
done
grep -qx '\.Fl \\-version' <<<"$synopsis" || missing="$missing --version"
if [ -z "$missing" ]; then
    ok "the SYNOPSIS shows every command and --version"
else
    not_ok "the SYNOPSIS shows every command and --version" "missing:$missing"
fi

# ---- each command: its own usage, and the man page's options -----------------
for cmd in $commands; do
    if [ "$cmd" = help ]; then
        check "help --help" "$SLUICE" help --help
        if cmp -s "$E2E_OUT" "$T/overview.txt"; then
            ok "help --help prints the overview"
        else
            not_ok "help --help prints the overview"
        fi
        continue
    fi
    check "$cmd --help" "$SLUICE" "$cmd" --help
    cp "$E2E_OUT" "$T/help-$cmd.txt"
    others=$(grep -E '^Usage: sluice ' "$T/help-$cmd.txt" | grep -v "^Usage: sluice $cmd " || true)
    if [ "$(head -n 1 "$T/help-$cmd.txt" | cut -d' ' -f1-3)" = "Usage: sluice $cmd" ] &&
        [ -z "$others" ] && [ ! -s "$E2E_ERR" ]; then
        ok "$cmd --help prints only $cmd's usage, nothing on stderr"
    else
        not_ok "$cmd --help prints only $cmd's usage, nothing on stderr" \
            "$(head -n 1 "$T/help-$cmd.txt")" "$others" "$(cat "$E2E_ERR")"
    fi
    check "help $cmd" "$SLUICE" help "$cmd"
    if cmp -s "$E2E_OUT" "$T/help-$cmd.txt"; then
        ok "help $cmd prints the same as $cmd --help"
    else
        not_ok "help $cmd prints the same as $cmd --help"
    fi

    help_options <"$T/help-$cmd.txt" >"$T/opts-help-$cmd"
    man_options "$cmd" >"$T/opts-man-$cmd"
    only_help=$(comm -23 "$T/opts-help-$cmd" "$T/opts-man-$cmd" | tr '\n' ' ')
    only_man=$(comm -13 "$T/opts-help-$cmd" "$T/opts-man-$cmd" | tr '\n' ' ')
    if [ -s "$T/opts-help-$cmd" ] && [ -z "$only_help" ] && [ -z "$only_man" ]; then
        ok "$cmd: the man page documents exactly the options of --help ($(wc -l <"$T/opts-help-$cmd"))"
    else
        not_ok "$cmd: the man page documents exactly the options of --help" \
            "in --help, not in man/sluice.1: $only_help" "in man/sluice.1, not in --help: $only_man"
    fi
    # And the parser knows each one (it may then want a value or arguments).
    unknown=""
    while read -r opt; do
        (cd "$T" && timeout 10 "$SLUICE" "$cmd" "$opt" </dev/null >/dev/null 2>"$T/opt.err") || true
        if grep -qiE 'unknown|ambiguous' "$T/opt.err"; then
            unknown="$unknown $opt"
        fi
    done <"$T/opts-help-$cmd"
    if [ -z "$unknown" ]; then
        ok "$cmd: the parser knows every option --help lists"
    else
        not_ok "$cmd: the parser knows every option --help lists" "unknown:$unknown"
    fi
done

# ---- exit codes --------------------------------------------------------------------
help_codes=$(awk '/^Exit codes:/ { f = 1; next } f && /^$/ { exit } f' "$T/overview.txt" |
    grep -oE '(^| )[0-9]{1,3}( |$)' | tr -d ' ' | sort -un)
man_codes=$(awk '/^\.Sh / { sh = $2; next } sh == "EXIT" && /^\.It [0-9]+$/ { print $2 }' "$MAN" |
    sort -un)
if [ -n "$help_codes" ] && [ "$help_codes" = "$man_codes" ]; then
    ok "the man page's EXIT STATUS has the exit codes of --help: $(words <<<"$help_codes")"
else
    not_ok "the man page's EXIT STATUS has the exit codes of --help" \
        "--help: $(words <<<"$help_codes")" "man:    $(words <<<"$man_codes")"
fi

# ---- the version -----------------------------------------------------------------
version=$("$SLUICE" --version | cut -d' ' -f2)
if [ "$(awk '/^\.Os / { print $2 " " $3 }' "$MAN")" = "sluice $version" ]; then
    ok "the man page is of version $version (.Os)"
else
    not_ok "the man page is of version $version (.Os)" "$(grep '^\.Os' "$MAN")"
fi

# ---- every page renders ------------------------------------------------------------
if ! command -v man >/dev/null; then
    not_ok "man is installed (scripts/install-deps.sh test: man-db, groff-base)"
else
    pages=$(find "$SLUICE_SRC/man" -maxdepth 1 -type f -name '*.[1-9]' | sort)
    for page in $pages; do
        name=$(basename "$page")
        LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" >"$T/$name.txt" 2>"$T/$name.err" || true
        if [ -s "$T/$name.txt" ] && [ ! -s "$T/$name.err" ] && grep -q '^NAME' "$T/$name.txt"; then
            ok "man -l $name renders without a warning"
        else
            not_ok "man -l $name renders without a warning" "$(head -n 20 "$T/$name.err")"
        fi
    done
fi
finish
