/** A no-echo prompt for passwords on a terminal; plain line reading otherwise (pipes, tests). */
import { stdin, stderr } from 'node:process';
import { createInterface } from 'node:readline';

export function readSecret(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!stdin.isTTY) {
      const rl = createInterface({ input: stdin, terminal: false });
      stderr.write(question);
      rl.once('line', (line) => {
        rl.close();
        resolve(line);
      });
      rl.once('close', () => reject(new Error('no input for the password prompt')));
      return;
    }
    stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new Error('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}
