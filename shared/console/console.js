// The datasync console: reads the same API as the CLI. No framework and no build step; the API key is
// pasted by the operator and kept in this tab's sessionStorage only.
'use strict';

const KEY_STORAGE = 'datasync.apiKey';
const REFRESH_MS = 5000;
const REPLAY_BATCH = 100;
const $ = (selector) => document.querySelector(selector);

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) headers['x-functions-key'] = key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`/api/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(`${method} /api/${path}: ${response.status} ${answer.error ?? ''}`);
    error.status = response.status;
    throw error;
  }
  return answer;
}

function cell(value, className) {
  const td = document.createElement('td');
  td.textContent = value === undefined || value === null ? '-' : String(value);
  if (className) td.className = className;
  return td;
}

function fillTable(selector, rows) {
  const body = $(`${selector} tbody`);
  body.replaceChildren(...rows);
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell('none', 'muted');
    td.colSpan = $(`${selector} thead tr`).children.length;
    tr.append(td);
    body.append(tr);
  }
}

function row(cells, attributes = {}) {
  const tr = document.createElement('tr');
  for (const [name, value] of Object.entries(attributes)) tr.setAttribute(name, value);
  tr.append(...cells);
  return tr;
}

const replays = new Map(); // stream -> { running, fraction, note } of its last replay in this tab

function streamRow(s) {
  const kind = s.errorStream ? (s.unrecoverable ? 'unrecoverable' : 'error') : 'main';
  const replayCell = document.createElement('td');
  if (s.errorStream) {
    const button = document.createElement('button');
    button.textContent = 'Replay';
    button.dataset.replay = s.stream;
    button.disabled = replays.get(s.stream)?.running === true;
    button.addEventListener('click', () => void replay(s.stream, button));
    const progress = document.createElement('progress');
    progress.max = 1;
    progress.value = replays.get(s.stream)?.fraction ?? 0;
    const note = document.createElement('span');
    note.className = 'replay-note';
    note.textContent = replays.get(s.stream)?.note ?? '';
    replayCell.append(button, ' ', progress, ' ', note);
  }
  const open = s.errorStream ? s.openFailures : '';
  return row(
    [
      cell(s.stream),
      cell(kind),
      cell(s.retained, 'number retained'),
      cell(open, 'number open-failures'),
      cell(s.lastOffset, 'number'),
      replayCell,
    ],
    { 'data-stream': s.stream, class: s.openFailures > 0 ? 'open' : '' },
  );
}

function showStatus(status) {
  const c = status.consumer;
  $('#consumer').textContent =
    `Consumer ${c.stream}: backlog ${c.backlog ?? c.lag ?? '-'}, in flight ${c.inFlight}, scheduled retries ${c.scheduledRetries}`;
  $('#consumer').dataset.backlog = String(c.backlog ?? c.lag ?? '');
  fillTable('#streams', status.streams.map(streamRow));
  fillTable(
    '#failures',
    status.recentFailures.map((f) => {
      const link = document.createElement('a');
      link.href = '#';
      link.textContent = f.id;
      link.addEventListener('click', (event) => {
        event.preventDefault();
        $('#message-id').value = f.id;
        void lookup(f.id);
      });
      const idCell = document.createElement('td');
      idCell.append(link);
      return row([
        cell(f.at),
        cell(f.stream),
        cell(f.offset),
        cell(f.target),
        cell(f.reason),
        cell(f.status),
        idCell,
      ]);
    }),
  );
  fillTable(
    '#targets',
    (status.targets ?? []).map((t) =>
      row([
        cell(t.origin),
        cell(t.inFlight, 'number'),
        cell(t.queued, 'number'),
        cell(t.limit, 'number'),
        cell([t.state, t.reason].filter(Boolean).join(': ')),
      ]),
    ),
  );
  const held = status.heldKeys;
  $('#held-summary').textContent = held
    ? `${held.keys} key(s), ${held.messages} message(s) held`
    : 'this host does not report held keys';
}

async function showKeys() {
  try {
    const { keys } = await api('GET', 'keys');
    fillTable(
      '#keys',
      keys.map((k) => {
        const actions = document.createElement('td');
        for (const action of ['release', 'skip']) {
          const button = document.createElement('button');
          button.textContent = action;
          button.addEventListener('click', async () => {
            await api('POST', `keys/${action}`, { streamKey: k.streamKey }).catch(showError);
            void refresh();
          });
          actions.append(button, ' ');
        }
        return row([cell(k.streamKey), cell(k.held, 'number'), cell(k.headState), cell(k.since), actions], {
          'data-key': k.streamKey,
        });
      }),
    );
  } catch (error) {
    if (error.status !== 404) throw error;
    fillTable('#keys', []);
  }
}

function showError(error) {
  const box = $('#error');
  box.hidden = !error;
  box.textContent = error ? String(error.message ?? error) : '';
}

async function refresh() {
  try {
    showStatus(await api('GET', 'stream/status'));
    await showKeys();
    showError(undefined);
    $('#updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    showError(error.status === 401 ? new Error('the host wants an API key: paste it above') : error);
  }
}

/** Replays a stream batch by batch up to its last offset as it was when the button was clicked. */
async function replay(stream, button) {
  button.disabled = true;
  const state = { running: true, fraction: 0, note: 'starting…' };
  replays.set(stream, state);
  let after;
  const totals = { delivered: 0, failed: 0, skipped: 0 };
  try {
    const status = await api('GET', 'stream/status');
    const summary = status.streams.find((s) => s.stream === stream);
    const end = BigInt(summary?.lastOffset ?? -1);
    const start = BigInt(summary?.replayPosition ?? -1);
    for (;;) {
      const answer = await api('POST', 'stream/retry', {
        streamOCIDToRetry: stream,
        noOfMessagesToProcess: REPLAY_BATCH,
        ...(after === undefined ? {} : { readAfterOffset: after }),
      });
      after = answer.lastReadOffset;
      totals.delivered += answer.processedmessages;
      totals.failed += answer.failedMessages;
      totals.skipped += answer.skippedMessages ?? 0;
      const reached = BigInt(after);
      const done = answer.endOfStream || reached >= end;
      state.fraction = done || end <= start ? 1 : Number(reached - start) / Number(end - start);
      state.note = `${done ? 'done' : 'running'}: delivered ${totals.delivered}, failed again ${totals.failed}, skipped ${totals.skipped}`;
      updateReplayRow(stream, state);
      if (done) break;
    }
  } catch (error) {
    state.note = `stopped after offset ${after ?? 'the start'}: ${error.message}`;
    updateReplayRow(stream, state);
  } finally {
    state.running = false;
    await refresh();
  }
}

function updateReplayRow(stream, state) {
  const tr = document.querySelector(`tr[data-stream="${CSS.escape(stream)}"]`);
  if (!tr) return;
  tr.querySelector('progress').value = state.fraction;
  tr.querySelector('.replay-note').textContent = state.note;
}

async function lookup(id) {
  try {
    const message = await api('GET', `messages/${encodeURIComponent(id)}`);
    $('#message').textContent = JSON.stringify(message, null, 2);
  } catch (error) {
    $('#message').textContent = error.message;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('#key').value = sessionStorage.getItem(KEY_STORAGE) ?? '';
  $('#key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = $('#key').value.trim();
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
    void refresh();
  });
  $('#lookup').addEventListener('submit', (event) => {
    event.preventDefault();
    void lookup($('#message-id').value.trim());
  });
  void refresh();
  setInterval(() => void refresh(), REFRESH_MS);
});
