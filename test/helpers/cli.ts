import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', 'cli', 'bin.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `datasync …` as a child process (the bin, as `npx datasync` runs it), against `url`. */
export function startCli(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<CliRun>; stderrSoFar: () => string } {
  const inherited = { ...process.env };
  delete inherited.DATASYNC_URL;
  delete inherited.DATASYNC_KEY;
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...inherited, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliRun>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done, stderrSoFar: () => stderr };
}

export function runCli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliRun> {
  const { child, done } = startCli(args, env);
  child.stdin?.end(stdin ?? '');
  return done;
}
