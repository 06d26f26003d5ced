/**
 * The README's command table and the help the program prints describe the same
 * commands with the same options: a command or flag added, renamed or removed in
 * one place and not the other fails here.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { serveCommand } from '../../src/server/main.js';

function program(): Command {
  const sink = new PassThrough();
  return buildProgram({
    output: { out: sink, err: sink },
    terminal: { input: new PassThrough(), output: sink },
    passphrase: undefined,
    newPassphrase: undefined,
    signal: new AbortController().signal,
    env: {},
  });
}

/** Every command by its path ("pins accept"), with its long options but --help. */
function commandsOf(command: Command, prefix = ''): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const sub of command.commands) {
    const path = `${prefix}${sub.name()}`;
    found.set(
      path,
      sub.options.flatMap((option) => (option.long === undefined ? [] : [option.long])).sort(),
    );
    for (const [inner, flags] of commandsOf(sub, `${path} `)) found.set(inner, flags);
  }
  return found;
}

/** The README's rows: the command path (the words before any argument) and the flags named. */
function readmeRows(): Map<string, string[]> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const rows = new Map<string, string[]>();
  for (const match of readme.matchAll(/^\| `sisp ([^`]+)`/gm)) {
    const usage = match[1] ?? '';
    const words: string[] = [];
    for (const word of usage.split(' ')) {
      if (!/^[a-z]+$/.test(word)) break;
      words.push(word);
    }
    const flags = [...usage.matchAll(/--[a-z-]+/g)].map((flag) => flag[0]);
    rows.set(words.join(' '), [...new Set(flags)].sort());
  }
  return rows;
}

describe('README command table and help agree', () => {
  it('every command is in the table, with exactly its options', () => {
    const rows = readmeRows();
    const commands = commandsOf(program());
    commands.set(
      'serve',
      serveCommand({})
        .options.flatMap((o) => (o.long === undefined ? [] : [o.long]))
        .filter((flag) => flag !== '--version' && flag !== '--help')
        .sort(),
    );
    commands.set('help', []);
    assert.deepEqual([...rows.keys()].sort(), [...commands.keys()].sort());
    for (const [path, flags] of commands) {
      if (path === 'help') continue;
      assert.deepEqual(rows.get(path), flags, `README row for sisp ${path}`);
    }
  });

  it('every command has examples in its help, and shows the global options', () => {
    for (const [path] of commandsOf(program())) {
      if (path === 'serve') continue;
      const root = program();
      let command: Command | undefined = root;
      for (const word of path.split(' '))
        command = command?.commands.find((c) => c.name() === word);
      assert.ok(command !== undefined);
      let help = '';
      command.configureOutput({ writeOut: (text) => (help += text) });
      command.outputHelp();
      assert.match(help, /Examples:\n {2}\$ .*sisp /, `sisp ${path} --help has examples`);
      assert.match(
        help,
        /Global Options:[\s\S]*--server <url>/,
        `sisp ${path} --help shows global options`,
      );
    }
    let serveHelp = '';
    serveCommand({})
      .configureOutput({ writeOut: (text) => (serveHelp += text) })
      .outputHelp();
    assert.match(serveHelp, /Examples:\n {2}\$ sisp serve/);
  });
});
