import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { version } from '../package.json';
import { ApiClient } from './api-client';
import type { HeldKeys, MessageHistory, Status } from './api-types';
import { CliError, EXIT } from './exit-codes';
import { progressFor } from './progress';
import { renderKeys, renderMessage, renderStatus } from './render';
import { replayStream, summaryLine } from './replay';
import { parseRequests, sendRequests } from './send';
import { smoke } from './smoke';

const EXIT_CODES_HELP = `
Exit codes:
  0    done
  1    the API answered an error or could not be reached
  2    unknown command or option, bad argument or input
  3    replay finished and some messages failed again
  130  stopped by Ctrl-C (replay prints the offset to resume from)`;

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
}

function offset(value: string): string {
  if (!/^(-1|\d+)$/.test(value)) throw new InvalidArgumentError('must be -1 or an offset (an integer)');
  return value;
}

const out = (text: string) => process.stdout.write(`${text}\n`);

function program(): Command {
  const cli = new Command('datasync')
    .description('Operate a datasync host: status, replays, message histories, held keys, sending.')
    .version(version)
    .addOption(new Option('--url <url>', 'the host').env('DATASYNC_URL').default('http://127.0.0.1:7071'))
    .addOption(new Option('--key <key>', 'API key, sent as x-functions-key').env('DATASYNC_KEY'))
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError()
    .exitOverride();
  const client = (command: Command) => {
    const { url, key } = command.optsWithGlobals<{ url: string; key?: string }>();
    return new ApiClient({ url, key });
  };

  cli
    .command('status')
    .description('streams (retained, open failures), consumer backlog, targets, held keys, recent failures')
    .option('--json', 'print the status report as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const status = await client(command).get<Status>('stream/status');
      out(options.json ? JSON.stringify(status, null, 2) : renderStatus(status));
    });

  cli
    .command('replay')
    .description('replay a stream until its end (as it was when the replay started), batch by batch')
    .argument('<stream>', 'the stream to replay, e.g. datasync-error-503')
    .option(
      '--from <offset>',
      'replay after this offset (-1: from the oldest); default: where the last replay stopped',
      offset,
    )
    .option('--batch <n>', 'messages per retry call', positiveInt, 100)
    .option('--dry-run', 'count what would be replayed; send nothing')
    .option('--include-handled', 'replay messages already handled (delivered, skipped) too')
    .action(
      async (
        stream: string,
        options: { from?: string; batch: number; dryRun?: boolean; includeHandled?: boolean },
        command: Command,
      ) => {
        let stopRequested = false;
        const onInterrupt = () => {
          if (stopRequested) process.exit(EXIT.interrupted);
          stopRequested = true;
          process.stderr.write('\nstopping after the current call (Ctrl-C again to quit now)\n');
        };
        process.on('SIGINT', onInterrupt);
        const dryRun = options.dryRun === true;
        const result = await replayStream(
          client(command),
          {
            stream,
            from: options.from,
            batch: options.batch,
            dryRun,
            includeHandled: options.includeHandled === true,
          },
          progressFor(process.stderr, `replay ${stream}`),
          () => stopRequested,
        );
        process.off('SIGINT', onInterrupt);
        out(summaryLine(stream, result, dryRun));
        if (result.interrupted) {
          out(`interrupted: resume with  datasync replay ${stream} --from ${result.lastReadOffset ?? -1}`);
          process.exitCode = EXIT.interrupted;
        } else if (result.failed > 0) {
          process.exitCode = EXIT.failedAgain;
        }
      },
    );

  cli
    .command('message')
    .description('the state and every attempt of one message')
    .argument('<id>', 'the message id (from the sync answer, status or logs)')
    .option('--json', 'print the history as JSON')
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      const message = await client(command).get<MessageHistory>(`messages/${encodeURIComponent(id)}`);
      out(options.json ? JSON.stringify(message, null, 2) : renderMessage(message));
    });

  cli
    .command('keys')
    .description('stream keys held behind a failed head')
    .option('--json', 'print the held keys as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const held = await client(command).get<HeldKeys>('keys');
      out(options.json ? JSON.stringify(held, null, 2) : renderKeys(held));
    });

  cli
    .command('release')
    .description('deliver the messages held behind a key now, without waiting for its head')
    .argument('<key>', 'the stream key')
    .action(async (key: string, _options: unknown, command: Command) => {
      const answer = await client(command).post<{ released: number }>('keys/release', { streamKey: key });
      out(`released ${answer.released} message(s) of key ${key}`);
    });

  cli
    .command('skip')
    .description("skip a held key's failed head; the next message of the key goes next")
    .argument('<key>', 'the stream key')
    .action(async (key: string, _options: unknown, command: Command) => {
      const answer = await client(command).post<{ skipped: string }>('keys/skip', { streamKey: key });
      out(`skipped message ${answer.skipped}, the head of key ${key}`);
    });

  cli
    .command('send')
    .description('post sync requests from a file or stdin (a JSON array or NDJSON), in batches')
    .argument('<file>', 'a .json / .ndjson file, or - for stdin')
    .option('--batch <n>', 'requests per call (at most DATASYNC_MAX_BATCH of the host)', positiveInt, 100)
    .addOption(
      new Option('--authorization <value>', "the target's credential, sent as Authorization").env(
        'DATASYNC_TARGET_AUTHORIZATION',
      ),
    )
    .action(async (file: string, options: { batch: number; authorization?: string }, command: Command) => {
      let text: string;
      try {
        text = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (cause) {
        throw new CliError(`cannot read ${file}: ${(cause as Error).message}`, EXIT.usage);
      }
      const requests = parseRequests(text, file === '-' ? 'stdin' : file);
      const result = await sendRequests(
        client(command),
        requests,
        options,
        progressFor(process.stderr, 'send'),
      );
      out(`sent ${result.sent} request(s) in ${result.batches} batch(es)`);
    });

  cli
    .command('smoke')
    .description(
      "after a deploy: sync, delivery, a forced failure, its replay and its history, against the host's own /api/echo (DATASYNC_ECHO_ENABLED=true)",
    )
    .action(async (_options: unknown, command: Command) => {
      const { url } = command.optsWithGlobals<{ url: string }>();
      const passed = await smoke(client(command), url, (step) =>
        out(`${step.ok ? 'PASS' : 'FAIL'}  ${step.step}: ${step.detail}`),
      );
      out(passed ? 'smoke test passed' : 'smoke test failed');
      if (!passed) process.exitCode = EXIT.callFailed;
    });

  for (const command of cli.commands) command.exitOverride();
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return Number(process.exitCode ?? EXIT.ok);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof CliError) {
      process.stderr.write(`datasync: ${error.message}\n`);
      return error.code;
    }
    throw error;
  }
}
