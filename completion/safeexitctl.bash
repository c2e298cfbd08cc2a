# bash completion for safeexitctl(1)                       -*- shell-script -*-
#
# Completes the commands, the global options, each command's options,
# signal names, stdout/stderr for tail, and the names of the programs of the
# running daemon (the first column of "safeexitctl status", asked with the
# -s/-c already on the line; nothing when the daemon cannot be reached).

_safeexitctl_commands='status start stop restart signal reload shutdown pid tail reexec kill version maintail top update reread avail clear'
_safeexitctl_signals='HUP INT QUIT KILL USR1 USR2 TERM ALRM CONT STOP TSTP TTIN TTOU WINCH PWR'

# Fill COMPREPLY with the words of $1 that start with $2.
_safeexitctl_reply()
{
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

# File names starting with $1 (bash-completion's _filedir reads $cur).
_safeexitctl_files()
{
	if declare -F _filedir >/dev/null; then
		_filedir
	else
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$1")
	fi
}

# Process ids starting with $1 (for the kill command).
_safeexitctl_pids()
{
	local p pids=''
	for p in /proc/[0-9]*; do
		pids+=" ${p#/proc/}"
	done
	_safeexitctl_reply "$pids" "$1"
}

# The program names of the running daemon.  $1 is the client to run, the
# rest are the -s/-c options from the command line.  Silent on failure; -t
# keeps a daemon that does not answer from blocking the shell.
_safeexitctl_programs()
{
	local ctl=$1 name _
	shift
	"$ctl" "$@" -t 2 status 2>/dev/null </dev/null |
	while read -r name _; do
		printf '%s\n' "$name"
	done
}

_safeexitctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]}
	local prev=''
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()

	local ctl=${COMP_WORDS[0]}
	[[ $ctl == \~/* ]] && ctl=$HOME/${ctl#\~/}

	# Global options up to the command word.  -s and -c are kept (with a
	# leading ~/ expanded) to ask the same daemon for its program names.
	# With the default COMP_WORDBREAKS, "--socket=PATH" arrives as three
	# words: "--socket", "=" and "PATH".
	local -a conn=()
	local i=1 word value cmd='' cmd_at=0
	while ((i < COMP_CWORD)); do
		word=${COMP_WORDS[i]}
		case $word in
		-s | -c | --socket | --config | -t | --timeout)
			[[ ${COMP_WORDS[i + 1]} == = ]] && ((i++))
			if ((i + 1 < COMP_CWORD)) && [[ $word != -t* && $word != --t* ]]; then
				value=${COMP_WORDS[i + 1]}
				[[ $value == \~/* ]] && value=$HOME/${value#\~/}
				conn+=("$word" "$value")
			fi
			((i += 2))
			continue
			;;
		-s?* | -c?* | --socket=?* | --config=?*)
			conn+=("$word")
			;;
		-*) ;;
		*)
			cmd=$word
			cmd_at=$i
			break
			;;
		esac
		((i++))
	done

	if [[ -z $cmd ]]; then
		# The word after an option's "=" completes as its value.
		[[ $prev == = ]] && ((COMP_CWORD > 1)) &&
			prev=${COMP_WORDS[COMP_CWORD - 2]}
		case $prev in
		-s | -c | --socket | --config)
			_safeexitctl_files "$cur"
			return
			;;
		-t | --timeout)
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			_safeexitctl_reply '-s --socket -c --config -t --timeout --json -h --help -V --version' "$cur"
		else
			_safeexitctl_reply "$_safeexitctl_commands" "$cur"
		fi
		return
	fi

	# The command's options and operands so far.
	local -a args=()
	for ((i = cmd_at + 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		case $cmd:$word in
		tail:-n | maintail:-n | kill:-S | kill:--signal | kill:-t | kill:--timeout)
			((i++))
			;;
		*:-*) ;;
		*)
			args+=("$word")
			;;
		esac
	done

	# Every command takes --json and --help.
	local opts='--json --help' programs=''
	case $cmd in
	status)
		programs=yes
		;;
	start | restart | clear)
		programs=all
		;;
	stop)
		opts+=' --no-wait'
		programs=all
		;;
	signal)
		if ((${#args[@]} == 0)); then
			[[ $cur == -* ]] || _safeexitctl_reply "$_safeexitctl_signals" "$cur"
			return
		fi
		programs=all
		;;
	pid)
		((${#args[@]} == 0)) && programs=yes
		;;
	maintail)
		[[ $prev == -n ]] && return
		opts+=' -f -n'
		;;
	tail)
		[[ $prev == -n ]] && return
		opts+=' -f -n'
		case ${#args[@]} in
		0) programs=yes ;;
		1) [[ $cur == -* ]] || _safeexitctl_reply 'stdout stderr' "$cur" ;;
		esac
		;;
	kill)
		case $prev in
		-S | --signal)
			_safeexitctl_reply "$_safeexitctl_signals" "$cur"
			return
			;;
		-t | --timeout)
			return
			;;
		esac
		opts='-S --signal -t --timeout --help'
		[[ $cur == -* ]] || _safeexitctl_pids "$cur"
		;;
	esac

	if [[ $cur == -* ]]; then
		_safeexitctl_reply "$opts" "$cur"
		return
	fi
	if [[ -n $programs ]]; then
		local names
		names=$(_safeexitctl_programs "$ctl" "${conn[@]}")
		[[ $programs == all ]] && names+=$'\nall'
		# Leave out the names already given.
		for word in "${args[@]}"; do
			names=$(grep -vxF -e "$word" <<<"$names")
		done
		_safeexitctl_reply "$names" "$cur"
	fi
}

complete -F _safeexitctl safeexitctl
