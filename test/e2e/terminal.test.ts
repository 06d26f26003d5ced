/**
 * What only a terminal shows, on a real pseudo-terminal: the prompt's line editing
 * (Ctrl-C, Ctrl-D, Tab), cancelling a transfer from the keyboard, notifications that
 * arrive during a transfer, and display in the colours the terminal says it has.
 * The screen is read back through a terminal emulator (@xterm/headless), so what is
 * checked is what a person would see, after every erase and redraw.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import xterm from '@xterm/headless';
import { postImage } from '../../src/core/post.js';
import { bytesSource } from '../../src/core/source.js';
import { pngDeclaring } from '../support/png.js';
import {
  homeArgs,
  inProcessClient,
  IMAGES,
  largeJpeg,
  registered,
  startServer,
  TerminalProcess,
  type ClientHome,
  type ServerProcess,
} from './harness.js';

/** The lines a person would see (scrollback included), after the emulator has drawn everything. */
function screen(output: string): Promise<string[]> {
  const terminal = new xterm.Terminal({
    cols: 100,
    rows: 30,
    scrollback: 5000,
    allowProposedApi: true,
  });
  return new Promise((resolve) => {
    terminal.write(output.replaceAll(/(?<!\r)\n/g, '\r\n'), () => {
      const buffer = terminal.buffer.active;
      const lines: string[] = [];
      for (let i = 0; i < buffer.length; i++)
        lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
      while (lines.length > 0 && lines.at(-1) === '') lines.pop();
      terminal.dispose();
      resolve(lines);
    });
  });
}

/** A terminal that says nothing about colour unless the test does. */
const PLAIN_TERMINAL = { COLORTERM: '', NO_COLOR: '' };

describe('on a terminal', () => {
  let server: ServerProcess;
  let alice: ClientHome;
  let bob: ClientHome;
  let carol: ClientHome;
  let large: string;

  before(async () => {
    server = await startServer();
    [alice, bob, carol] = await registered(server, 'alice', 'bob', 'carol');
    assert.equal((await alice.run(['post', 'sunset', join(IMAGES, 'hopper.png')])).code, 0);
    large = largeJpeg(200 * 1024 * 1024);
  });
  after(async () => {
    await server.stop();
  });

  it('the prompt: Ctrl-C clears a half-typed line, Tab completes commands and image names, Ctrl-D leaves', async () => {
    const term = new TerminalProcess(homeArgs(server, bob), PLAIN_TERMINAL);
    try {
      await term.waitFor(/sisp> $/);
      term.send('LIS');
      await term.waitFor(/sisp> LIS$/);
      term.send('\x03');
      await term.waitFor(/\^C\r?\n[\s\S]*sisp> $/);
      term.send('\x03');
      await term.waitFor(/QUIT or Ctrl-D leaves/);
      term.send('LIST\r');
      await term.waitFor(/alice\/sunset +image\/png/);
      let mark = term.output.length;
      term.send('dow\t');
      await term.waitFor(/nload/, mark);
      term.send('alice/sun\t');
      await term.waitFor(/set/, mark);
      mark = term.output.length;
      term.send('\r');
      await term.waitFor(/downloads\/alice\/sunset\.png/, mark);
      term.send('\x04');
      assert.equal(await term.exited, 0);
    } finally {
      term.kill();
    }
    const lines = await screen(term.output);
    assert.ok(!lines.some((line) => line.includes('LISLIST')), 'Ctrl-C cleared the line');
    assert.ok(lines.includes('sisp> download alice/sunset'), lines.join('\n'));
    assert.deepEqual(
      readFileSync(join(bob.dir, 'downloads', 'alice', 'sunset.png')),
      readFileSync(join(IMAGES, 'hopper.png')),
    );
    assert.match(term.output, /\r?\n$/, 'leaves on a new line');
  });

  it('Ctrl-C during POST_IMAGE cancels it: nothing is published, and the prompt goes on', async () => {
    const term = new TerminalProcess(homeArgs(server, carol), PLAIN_TERMINAL);
    try {
      await term.waitFor(/sisp> $/);
      term.send(`POST_IMAGE huge ${large}\r`);
      await term.waitFor(/posting \[/);
      term.send('\x03');
      await term.waitFor(/error: the post was cancelled/);
      await term.waitFor(/sisp> $/);
      term.send('LIST\r');
      await term.waitFor(/alice\/sunset/);
      term.send('QUIT\r');
      assert.equal(await term.exited, 0);
    } finally {
      term.kill();
    }
    assert.doesNotMatch(term.output, /carol\/huge/);
    const listed = await alice.run(['list']);
    assert.doesNotMatch(listed.stdout, /huge/, 'nothing was published');
  });

  it('a notification during a transfer is printed above the progress bar and stays on the screen', async () => {
    assert.equal((await alice.run(['post', 'large', large], { timeoutMs: 120_000 })).code, 0);
    // carol posts from a client already connected, so her post lands within the transfer.
    const carolClient = await inProcessClient(server, carol);
    const term = new TerminalProcess(homeArgs(server, bob), PLAIN_TERMINAL);
    try {
      await term.waitFor(/sisp> $/);
      term.send('DOWNLOAD alice/large\r');
      await term.waitFor(/downloading \[/);
      await postImage(carolClient, {
        name: 'during',
        source: bytesSource(new Uint8Array(readFileSync(join(IMAGES, 'hopper.png')))),
      });
      await term.waitFor(/downloads\/alice\/large\.jpg/, 0, 120_000);
      await term.waitFor(/sisp> $/);
      term.send('QUIT\r');
      assert.equal(await term.exited, 0);
    } finally {
      term.kill();
      carolClient.close();
    }
    const lines = await screen(term.output);
    assert.ok(lines.includes('NEW_IMAGE during carol'), lines.join('\n'));
    assert.ok(!lines.some((line) => line.includes('downloading [')), 'the bar was cleared');
  });

  it('display draws in the colours the terminal says it has, and only metadata on a dumb one', async () => {
    const display = async (env: Record<string, string>, ...extra: string[]): Promise<string> => {
      const term = new TerminalProcess(
        [...homeArgs(server, bob), 'display', 'alice/sunset', ...extra],
        {
          ...PLAIN_TERMINAL,
          ...env,
        },
      );
      assert.equal(await term.exited, 0, term.output);
      return term.output.replaceAll('\u001b', 'ESC');
    };
    const palette = await display({ TERM: 'xterm-256color' });
    assert.match(palette, /ESC\[38;5;\d+mESC\[48;5;\d+m▀/);
    assert.doesNotMatch(palette, /ESC\[38;2;/);
    const truecolor = await display({ TERM: 'xterm-256color', COLORTERM: 'truecolor' });
    assert.match(truecolor, /ESC\[38;2;\d+;\d+;\d+m/);
    const basic = await display({ TERM: 'xterm' });
    assert.doesNotMatch(basic, /ESC\[[34]8;/);
    assert.match(basic, /ESC\[(3|9)\dm/);
    const noColour = await display({
      TERM: 'xterm-256color',
      COLORTERM: 'truecolor',
      NO_COLOR: '1',
    });
    assert.doesNotMatch(noColour, /ESC\[[0-9;]*m/);
    assert.match(noColour, /[.:=+*#%@]{5}/);
    const dumb = await display({ TERM: 'dumb' });
    assert.doesNotMatch(dumb, /ESC/);
    assert.match(dumb, /dimensions: 128x128/);
    const narrow = await display({ TERM: 'xterm-256color' }, '--width', '20');
    const rows = narrow.split('\n').filter((line) => line.includes('▀'));
    assert.equal(rows.length, 10, '128x128 at 20 columns is 20x20 pixels: 10 rows');
    assert.ok(rows.every((row) => (row.match(/▀/g) ?? []).length === 20));
  });

  it('list --thumbnails draws each verified thumbnail; one tampered with on disk is refused', async () => {
    const shown = new TerminalProcess([...homeArgs(server, bob), 'list', '--thumbnails'], {
      ...PLAIN_TERMINAL,
      TERM: 'xterm-256color',
    });
    assert.equal(await shown.exited, 0, shown.output);
    const lines = await screen(shown.output);
    const at = lines.findIndex((line) => line.startsWith('alice/sunset '));
    assert.ok(at > 0, lines.join('\n'));
    assert.ok((lines[at - 1] ?? '').includes('▀'), 'its thumbnail is drawn above it');
    // The operator (or a thief) alters the stored thumbnails: the reader's client refuses them.
    const tamper = spawnSync('sqlite3', [
      join(server.dataDir, 'sisp.db'),
      'UPDATE thumbnails SET data = randomblob(length(data));',
    ]);
    if (tamper.error !== undefined) throw new Error('sqlite3 is needed (.ci/run installs it)');
    assert.equal(tamper.status, 0, String(tamper.stderr));
    const refused = new TerminalProcess([...homeArgs(server, bob), 'list', '--thumbnails'], {
      ...PLAIN_TERMINAL,
      TERM: 'xterm-256color',
    });
    assert.equal(await refused.exited, 1);
    assert.match(refused.output, /the thumbnail of alice\/\S+ failed verification/);
    const plain = await bob.run(['list']);
    assert.equal(plain.code, 0, 'the list itself is untouched');
  });

  it('a too-large image says what to do instead', async () => {
    const png = pngDeclaring(10_000, 10_000);
    const { writeFileSync } = await import('node:fs');
    const path = join(bob.dir, 'wide.png');
    writeFileSync(path, png);
    const posted = await bob.run(['post', 'wide', path]);
    assert.equal(posted.code, 0, posted.stderr);
    const term = new TerminalProcess([...homeArgs(server, bob), 'display', 'wide'], {
      ...PLAIN_TERMINAL,
      TERM: 'xterm-256color',
    });
    assert.equal(await term.exited, 1);
    assert.match(term.output, /10000x10000 pixels[\s\S]*use --open[\s\S]*sisp download/);
  });
});
