/**
 * `sisp completion bash|zsh|fish`: a completion script made from the command tree
 * itself, so it can never drift from the commands: command names, their options
 * and, where an argument is a path, file names.
 */
import type { Command, Option } from 'commander';
import { sispError } from '../protocol/errors.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface Flag {
  readonly long: string;
  readonly description: string;
  readonly takesValue: boolean;
  /** The value is a file or folder (--out <path>, --home <dir>). */
  readonly path: boolean;
}

interface Entry {
  /** "pins accept" for a subcommand of a subcommand. */
  readonly path: string;
  readonly description: string;
  readonly flags: readonly Flag[];
  /** Whether an argument is a file or folder (post's <path>). */
  readonly files: boolean;
}

function flagsOf(options: readonly Option[]): Flag[] {
  return options
    .filter((option) => option.long !== undefined)
    .map((option) => ({
      long: option.long ?? '',
      description: option.description,
      takesValue: option.required || option.optional,
      path: /<(path|file|dir)>/.test(option.flags),
    }));
}

function entries(command: Command, prefix = ''): Entry[] {
  return command.commands.flatMap((sub) => {
    const path = `${prefix}${sub.name()}`;
    const files = sub.registeredArguments.some((argument) => /path|file|dir/.test(argument.name()));
    const own: Entry = {
      path,
      description: sub.description(),
      flags: [
        ...flagsOf(sub.options),
        { long: '--help', description: 'help', takesValue: false, path: false },
      ],
      files,
    };
    return [own, ...entries(sub, `${path} `)];
  });
}

const quoteSingle = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

function bash(program: Command, global: readonly Flag[], list: readonly Entry[]): string {
  const top = list.filter((entry) => !entry.path.includes(' '));
  const valued = global.filter((flag) => flag.takesValue).map((flag) => flag.long);
  const cases = list
    .map((entry) => {
      const subs = list
        .filter((other) => other.path.startsWith(`${entry.path} `))
        .map((other) => other.path.slice(entry.path.length + 1));
      const words = [...subs, ...entry.flags.map((flag) => flag.long)].join(' ');
      return `    ${quoteSingle(entry.path)}) words=${quoteSingle(words)}; files=${entry.files ? 1 : 0} ;;`;
    })
    .join('\n');
  const name = program.name();
  const pathFlags = [
    ...new Set(
      [...global, ...list.flatMap((entry) => entry.flags)]
        .filter((flag) => flag.path)
        .map((flag) => flag.long),
    ),
  ];
  return `# bash completion for ${name}: eval "$(${name} completion bash)"
_${name}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" i word skip=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$word" in
      ${valued.join('|')}) skip=1 ;;
      -*) ;;
      *) case "\${path:+$path }$word" in
           ${list.map((entry) => quoteSingle(entry.path)).join('|')}) path="\${path:+$path }$word" ;;
         esac ;;
    esac
  done
  case "\${COMP_WORDS[COMP_CWORD-1]}" in
    ${pathFlags.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  local words files=0
  case "$path" in
    '') words=${quoteSingle([...top.map((entry) => entry.path), 'help', ...global.map((flag) => flag.long)].join(' '))} ;;
${cases}
    *) words=""; files=1 ;;
  esac
  if [[ "$cur" != -* ]] && ((files)); then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
}
complete -o filenames -F _${name} ${name}
`;
}

const zshEscape = (text: string): string => text.replaceAll("'", "'\\''").replaceAll(':', '\\:');

function zshSpec(flag: Flag): string {
  const description = zshEscape(flag.description).replaceAll('[', '(').replaceAll(']', ')');
  return `'${flag.long}[${description}]${flag.takesValue ? ':value:' : ''}'`;
}

function zsh(program: Command, global: readonly Flag[], list: readonly Entry[]): string {
  const name = program.name();
  const top = list.filter((entry) => !entry.path.includes(' '));
  const describe = (entries: readonly Entry[], depth: number) =>
    entries.map(
      (entry) =>
        `'${zshEscape(entry.path.split(' ')[depth] ?? '')}:${zshEscape(entry.description)}'`,
    );
  const cases = top
    .map((entry) => {
      const subs = list.filter((other) => other.path.startsWith(`${entry.path} `));
      const specs = [...entry.flags.map(zshSpec), entry.files ? "'*:file:_files'" : "'*: :'"];
      const sub =
        subs.length === 0
          ? ''
          : ` && (( CURRENT == 2 )) && { local -a subs; subs=(${describe(subs, 1).join(' ')}); _describe 'subcommand' subs; }`;
      return `      ${entry.path}) _arguments ${specs.join(' ')}${sub} ;;`;
    })
    .join('\n');
  return `#compdef ${name}
# zsh completion for ${name}: ${name} completion zsh > "\${fpath[1]}/_${name}", or source it
_${name}() {
  local -a commands
  commands=(${describe(top, 0).join(' ')} 'help:help for a command')
  _arguments -C ${global.map(zshSpec).join(' ')} '1: :->command' '*:: :->arguments'
  case $state in
    command) _describe 'command' commands ;;
    arguments)
      case $words[1] in
${cases}
      esac ;;
  esac
}
if [[ "$funcstack[1]" = "_${name}" ]]; then _${name} "$@"; else compdef _${name} ${name}; fi
`;
}

function fish(program: Command, global: readonly Flag[], list: readonly Entry[]): string {
  const name = program.name();
  const top = list.filter((entry) => !entry.path.includes(' '));
  const lines = [
    `# fish completion for ${name}: ${name} completion fish > ~/.config/fish/completions/${name}.fish`,
    `complete -c ${name} -f`,
    ...global.map(
      (flag) =>
        `complete -c ${name} -l ${flag.long.slice(2)} -d ${quoteSingle(flag.description)}${flag.takesValue ? ' -r' : ''}`,
    ),
    ...top.map(
      (entry) =>
        `complete -c ${name} -n __fish_use_subcommand -a ${entry.path} -d ${quoteSingle(entry.description)}`,
    ),
    `complete -c ${name} -n __fish_use_subcommand -a help -d 'help for a command'`,
  ];
  for (const entry of list) {
    const words = entry.path.split(' ');
    const parent = words[0] ?? '';
    const condition = `__fish_seen_subcommand_from ${parent}`;
    if (words.length > 1) {
      lines.push(
        `complete -c ${name} -n ${quoteSingle(condition)} -a ${words[1] ?? ''} -d ${quoteSingle(entry.description)}`,
      );
      continue;
    }
    for (const flag of entry.flags)
      lines.push(
        `complete -c ${name} -n ${quoteSingle(condition)} -l ${flag.long.slice(2)} -d ${quoteSingle(flag.description)}${flag.takesValue ? ' -r' : ''}`,
      );
    if (entry.files) lines.push(`complete -c ${name} -n ${quoteSingle(condition)} -F`);
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(program: Command, shell: string): string {
  const list = entries(program);
  const global = flagsOf(program.options);
  if (shell === 'bash') return bash(program, global, list);
  if (shell === 'zsh') return zsh(program, global, list);
  if (shell === 'fish') return fish(program, global, list);
  throw sispError('E_BAD_REQUEST', `no completion for ${shell}: choose bash, zsh or fish`);
}
