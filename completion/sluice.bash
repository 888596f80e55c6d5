# bash completion for sluice(1)                            -*- shell-script -*-
#
# Installed as share/bash-completion/completions/sluice (bash-completion
# loads it on first use), or sourced from ~/.bashrc.
#
# The commands and each command's options are read from the sluice being
# completed (`sluice --help`, `sluice CMD --help`), so they are always that
# binary's own. What an option takes is read there too: "--key COL" takes a
# value, "--restart   discard..." does not. The values of options with a
# fixed set of choices are listed below; tests/e2e/completion.sh checks
# them against the parser, which names its choices when given a bad one.
#
# Positional arguments complete as file names (SOURCE may be an SQLite
# file; MANIFEST and FILE are files), except for a command whose usage
# lists --list-streams: after its MANIFEST it completes the stream names
# that `sluice CMD MANIFEST --list-streams` prints, one per line.

# The commands `sluice --help` lists: the first word of each line of its
# "Commands:" paragraph.
_sluice_commands()
{
    local line in=0
    while IFS= read -r line; do
        if [[ $line == Commands:* ]]; then
            in=1
        elif [[ -z $line ]]; then
            ((in)) && break
        elif ((in)) && [[ $line =~ ^\ \ ([a-z][a-z0-9-]*) ]]; then
            echo "${BASH_REMATCH[1]}"
        fi
    done < <("$1" --help 2>/dev/null)
}

# The options `sluice CMD --help` lists ("  -o, --output FILE  ...",
# "      --restart  ..."), one a line, each followed by "=" when it takes a
# value: "-o=", "--output=", "--restart".
_sluice_options()
{
    local line re='^ {2,6}(--?[A-Za-z0-9][A-Za-z0-9-]*)(, +(--[A-Za-z0-9][A-Za-z0-9-]*))?( [A-Z])?'
    while IFS= read -r line; do
        [[ $line =~ $re ]] || continue
        local eq=""
        [[ -n ${BASH_REMATCH[4]} ]] && eq="="
        echo "${BASH_REMATCH[1]}$eq"
        [[ -n ${BASH_REMATCH[3]} ]] && echo "${BASH_REMATCH[3]}$eq"
    done < <("$1" "$2" --help 2>/dev/null)
}

# The choices of an option that takes one of a fixed set of words.
_sluice_choices()
{
    case $1 in
    --paging) echo "keyset offset cursor" ;;
    --mode) echo "full incremental" ;;
    --compress) echo "none gzip zstd" ;;
    --progress) echo "auto always never" ;;
    --log-format) echo "text json" ;;
    esac
}

# Options whose value is a file name.
_sluice_takes_file()
{
    case $1 in
    -o | --output | --state) return 0 ;;
    esac
    return 1
}

_sluice()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=""
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local bin=${COMP_WORDS[0]}
    [[ $bin == \~/* ]] && bin=$HOME/${bin#\~/}
    command -v -- "$bin" >/dev/null 2>&1 || bin=sluice
    COMPREPLY=()

    if ((COMP_CWORD == 1)); then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "--help --version" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$(_sluice_commands "$bin")" -- "$cur")
        fi
        return 0
    fi
    local cmd=${COMP_WORDS[1]}
    case $cmd in
    help)
        ((COMP_CWORD == 2)) &&
            mapfile -t COMPREPLY < <(compgen -W "$(_sluice_commands "$bin" | grep -vx help)" -- "$cur")
        return 0
        ;;
    -* | version) return 0 ;;
    esac

    local options with_value=" " o
    options=$(_sluice_options "$bin" "$cmd")
    options=${options//$'\n'/ }
    for o in $options; do
        [[ $o == *= ]] && with_value+="${o%=} "
    done

    # The option whose value is being completed: "--opt VALUE", "--opt=VALUE"
    # (bash splits at "=": "--opt" "=" "VALUE").
    local opt=""
    if [[ $cur == "=" && $prev == --* ]]; then
        opt=$prev cur=""
    elif [[ $prev == "=" ]] && ((COMP_CWORD >= 3)) && [[ ${COMP_WORDS[COMP_CWORD - 2]} == --* ]]; then
        opt=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $cur == --*=* ]]; then
        opt=${cur%%=*} cur=${cur#*=}
    elif [[ $with_value == *" $prev "* ]]; then
        opt=$prev
    fi
    if [[ -n $opt ]]; then
        local choices
        choices=$(_sluice_choices "$opt")
        if [[ -n $choices ]]; then
            mapfile -t COMPREPLY < <(compgen -W "$choices" -- "$cur")
        elif _sluice_takes_file "$opt"; then
            compopt -o filenames 2>/dev/null || true
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        fi
        return 0
    fi

    if [[ $cur == -* ]]; then
        # Every option may be given once: leave out those already given.
        local names=() used=" ${COMP_WORDS[*]:2:COMP_CWORD-2} "
        for o in $options; do
            o=${o%=}
            [[ $used == *" $o "* || $used == *" $o="* ]] || names+=("$o")
        done
        mapfile -t COMPREPLY < <(compgen -W "${names[*]}" -- "$cur")
        return 0
    fi

    # A positional argument: the words after the command that are neither
    # options nor their values.
    local positionals=() i w
    for ((i = 2; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ $w == "=" ]]; then
            ((i++)) # "--opt" "=" "VALUE"
        elif [[ $w == -* ]]; then
            [[ $w != *=* && $with_value == *" $w "* && ${COMP_WORDS[i + 1]} != "=" ]] && ((i++))
        else
            positionals+=("$w")
        fi
    done
    if ((${#positionals[@]} >= 1)) && [[ " $options " == *" --list-streams "* ]]; then
        local manifest=${positionals[0]}
        [[ $manifest == \~/* ]] && manifest=$HOME/${manifest#\~/}
        mapfile -t COMPREPLY < <(compgen -W "$("$bin" "$cmd" "$manifest" --list-streams 2>/dev/null)" -- "$cur")
        return 0
    fi
    compopt -o filenames 2>/dev/null || true
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return 0
}

complete -F _sluice sluice
