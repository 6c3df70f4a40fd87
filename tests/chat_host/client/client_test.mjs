#!/usr/bin/env node
// client_test.mjs - the chat host as a real Matrix client sees it: two users, alice and bob, each
// driven by an unmodified matrix-js-sdk through its /sync loop, against a modkit-chat-host this
// script starts on 127.0.0.1 with the spam_filter and room_rules sample modules.
//
//    node client_test.mjs --host PATH/modkit-chat-host --modules DIR [--verbose]
//
// Prints one "ok - ..." or "not ok - ..." line per check; a failing check is followed by "#"
// lines naming what the server answered (method, path, status, body) while it ran. Exit status:
// 0 every check passed, 1 one did not, 2 usage, a missing SDK or a host that would not start.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const SERVER_NAME = "example.org";
const BLOCKED_WORD = "lottery";
const MASKED_WORD = "darn";
const GAP_MESSAGES = 60;
const SYNC_LIMIT = 10; // well below GAP_MESSAGES, so the sync after the gap must be limited
// A 2x2 RGB PNG: what an avatar or an inline image upload would carry.
const PNG = Buffer.from(
   "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DA0ADEDP8Z/v//DwAd9gV8z54y/gAAAABJRU5ErkJggg==",
   "base64");

// Time limits. The checks share one budget so that a server that answers nothing still lets the
// run end (and its host be killed) in about a minute; the watchdog is the last resort.
const HOST_START_MS = 10_000;
const CHECKS_BUDGET_MS = 45_000;
const WATCHDOG_MS = 65_000;
const STEP_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Command line

let options;
try {
   ({ values: options } = parseArgs({
      options: { host: { type: "string" }, modules: { type: "string" }, verbose: { type: "boolean", default: false } },
   }));
} catch (e) {
   usage(e.message);
}
if (!options.host || !options.modules) usage("--host and --modules are required");

function usage(message) {
   process.stderr.write(`client_test.mjs: ${message}\n` +
                        "usage: node client_test.mjs --host PATH/modkit-chat-host --modules DIR [--verbose]\n");
   process.exit(2);
}

// This script's own output. It does not go through console: several SDK modules bind console's
// methods when they load, past the reach of the SDK logger's setLevel, so unless --verbose the
// console is quieted before the SDK is imported.
function say(line) {
   process.stdout.write(line + "\n");
}
process.stdout.on("error", () => {}); // a reader that went away (| head) must not stop the cleanup
if (!options.verbose)
   for (const method of ["log", "debug", "info", "warn", "error", "trace"]) console[method] = () => {};

let sdk, sdkLogger;
try {
   sdk = await import("matrix-js-sdk");
   // The top-level module does not re-export its logger in 34.x; this is the instance it uses.
   ({ logger: sdkLogger } = await import("matrix-js-sdk/lib/logger.js"));
} catch (e) {
   say(`not ok - matrix-js-sdk is not installed (${e.code ?? e.message}): ` +
       "run npm ci --prefix tests/chat_host/client");
   process.exit(2);
}
// The SDK logs every retried request at error level with a stack; the "#" lines carry what the
// server answered instead, so only --verbose shows the SDK's log.
sdkLogger.setLevel(options.verbose ? "debug" : "silent");

// ---------------------------------------------------------------------------------------------
// The host process. It is killed on every way out of this script.

let host = null;
let tempDir = null;
const hostLog = [];

process.on("exit", () => {
   if (host && host.exitCode === null && host.signalCode === null) host.kill("SIGKILL");
   if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM"]) {
   process.on(signal, () => {
      say(`# interrupted by ${signal}`);
      process.exit(1);
   });
}
setTimeout(() => {
   say(`not ok - the run did not end within ${WATCHDOG_MS / 1000} s; stopping`);
   printHostTail();
   process.exit(1);
}, WATCHDOG_MS);
// A request the SDK fires and forgets may reject after its check gave up; that is reported by the
// check, not a reason to crash before the summary.
process.on("unhandledRejection", (reason) => {
   if (options.verbose) say(`# unhandled rejection: ${reason?.stack ?? reason}`);
});

function writeConfig(dir) {
   const config = {
      server_name: SERVER_NAME,
      listen: "127.0.0.1:0",
      max_upload_size: 1048576,
      module_call_timeout_ms: 5000,
      modkit: {
         module_path: [path.resolve(options.modules)],
         modules: [
            { module: "spam_filter", config: { blocked_words: [BLOCKED_WORD], ttl: "5m" } },
            { module: "room_rules", config: { masked_words: [MASKED_WORD] } },
         ],
      },
   };
   const file = path.join(dir, "config.json");
   writeFileSync(file, JSON.stringify(config, null, 2));
   return file;
}

// Starts the host and resolves with its base URL, read from its " serving on " log line.
function startHost(binary, configFile) {
   return new Promise((resolve, reject) => {
      host = spawn(binary, ["--config", configFile, "--listen", "127.0.0.1:0"],
                   { stdio: ["ignore", "ignore", "pipe"] });
      const timer = setTimeout(() => reject(new Error(`no " serving on " line within ${HOST_START_MS / 1000} s`)),
                               HOST_START_MS);
      let pending = "";
      host.stderr.setEncoding("utf8");
      host.stderr.on("data", (chunk) => {
         pending += chunk;
         let newline;
         while ((newline = pending.indexOf("\n")) >= 0) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            hostLog.push(line);
            if (hostLog.length > 400) hostLog.shift();
            if (options.verbose) say(`# host: ${line}`);
            const at = line.indexOf(" serving on ");
            if (at >= 0) {
               clearTimeout(timer);
               resolve(line.slice(at + " serving on ".length).trim());
            }
         }
      });
      host.on("error", (e) => { clearTimeout(timer); reject(e); });
      host.on("exit", (code, signal) => {
         clearTimeout(timer);
         reject(new Error(`the host exited (${signal ?? code}) before serving`));
      });
   });
}

async function stopHost() {
   if (!host || host.exitCode !== null || host.signalCode !== null) return;
   const exited = new Promise((resolve) => host.once("exit", (code, signal) => resolve(signal ?? code)));
   host.kill("SIGTERM");
   const how = await Promise.race([exited, sleep(5000).then(() => null)]);
   if (how === null) {
      say("# the host did not exit within 5 s of SIGTERM; killed");
      host.kill("SIGKILL");
   } else if (how !== 0) {
      say(`# the host exited with ${how} after SIGTERM`);
   }
}

function printHostTail() {
   if (hostLog.length === 0) return;
   say("# the host's last log lines:");
   for (const line of hostLog.slice(-15)) say(`#   ${line}`);
}

// ---------------------------------------------------------------------------------------------
// HTTP, recorded. Every answer that is not 2xx is kept so a failing check can show the server's
// side; /sync bodies are kept per client so a check can say what the sync stream lacked.

const answers = []; // {who, method, path, status, body}
const unanswered = new Set(); // the SDK's requests still waiting for the server: {who, method, path, started}
const syncs = { alice: [], bob: [] }; // {since, body} of each /sync answer, oldest first

function describePath(url) {
   const u = new URL(String(url));
   u.searchParams.delete("access_token");
   for (const key of ["since", "filter", "from"]) {
      const v = u.searchParams.get(key);
      if (v && v.length > 24) u.searchParams.set(key, v.slice(0, 21) + "...");
   }
   const query = u.searchParams.toString();
   return decodeURIComponent(u.pathname) + (query ? "?" + decodeURIComponent(query) : "");
}

function clip(text, n = 300) {
   const flat = String(text).replace(/\s+/g, " ").trim();
   return flat.length > n ? flat.slice(0, n) + "..." : flat;
}

// A client's next /sync requests wait here while a check holds them (syncGates[who] is then a
// promise), so news piles up on the server as it would for a client that was briefly offline.
const syncGates = {};
function holdSyncs(who) {
   let release;
   syncGates[who] = new Promise((resolve) => (release = resolve));
   return () => {
      delete syncGates[who];
      release();
   };
}

// A fetch for the SDK (its fetchFn option) that records as it goes; the SDK itself is unchanged.
function recordingFetch(who) {
   return async (input, init = {}) => {
      const method = (init.method ?? "GET").toUpperCase();
      const url = new URL(String(input instanceof Request ? input.url : input));
      if (url.pathname.endsWith("/sync") && syncGates[who]) await syncGates[who];
      const where = describePath(url);
      const request = { who, method, path: where, started: Date.now() };
      unanswered.add(request);
      let response;
      try {
         response = await fetch(input, init);
      } catch (e) {
         if (e.name !== "AbortError") answers.push({ who, method, path: where, status: "no answer", body: e.message });
         throw e;
      } finally {
         unanswered.delete(request);
      }
      const isSync = url.pathname.endsWith("/sync");
      if (!response.ok || (isSync && who in syncs)) {
         const text = await response.clone().text().catch((e) => `(body unreadable: ${e.message})`);
         if (!response.ok) answers.push({ who, method, path: where, status: response.status, body: clip(text) });
         else {
            syncs[who].push({ since: url.searchParams.get("since"), body: parseJson(text) ?? {} });
            if (syncs[who].length > 300) syncs[who].shift();
         }
      }
      return response;
   };
}

function parseJson(text) {
   try {
      return JSON.parse(text);
   } catch {
      return null;
   }
}

let baseUrl = null;

// A request of the test's own (not the SDK's): registration, the token-less download, whoami.
async function raw(method, apiPath, { body, token, binary = false } = {}) {
   const headers = {};
   if (body !== undefined) headers["Content-Type"] = "application/json";
   if (token) headers.Authorization = `Bearer ${token}`;
   const response = await fetch(baseUrl + apiPath, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(STEP_MS),
   });
   const bytes = Buffer.from(await response.arrayBuffer());
   if (!response.ok)
      answers.push({ who: "test", method, path: describePath(baseUrl + apiPath), status: response.status,
                     body: clip(bytes.toString("utf8")) });
   return { status: response.status, headers: response.headers, bytes, json: binary ? null : parseJson(bytes.toString("utf8")) };
}

// ---------------------------------------------------------------------------------------------
// Waiting

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let checksDeadline = Infinity;
const remaining = () => checksDeadline - Date.now();
// A step's own limit, cut short when the run's budget is nearly spent.
const limit = (ms = STEP_MS) => Math.max(0, Math.min(ms, remaining()));

class StepFailed extends Error {}

// Polls until predicate() returns something truthy; fails with `what` (and the result of
// explain(), evaluated then) when the time is up.
async function until(what, predicate, ms = STEP_MS, explain = null) {
   const allowed = limit(ms);
   const end = Date.now() + allowed;
   for (;;) {
      const value = predicate();
      if (value) return value;
      if (Date.now() >= end) {
         const why = explain ? explain() : "";
         throw new StepFailed(`${what} within ${(allowed / 1000).toFixed(1)} s` + (why ? `; ${why}` : ""));
      }
      await sleep(50);
   }
}

// Resolves with promise's value, or fails with `what` when it takes longer than ms.
async function within(what, promise, ms = STEP_MS) {
   const allowed = limit(ms);
   let timer;
   const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new StepFailed(`${what}: no answer within ${(allowed / 1000).toFixed(1)} s`)), allowed);
   });
   try {
      return await Promise.race([promise, timeout]);
   } catch (e) {
      if (e instanceof StepFailed) throw e;
      throw new StepFailed(`${what}: ${describeError(e)}`); // say which request of the check failed
   } finally {
      clearTimeout(timer);
   }
}

// A MatrixError as one line: what the SDK hands the application.
function describeError(e) {
   if (e instanceof StepFailed) return e.message;
   if (e?.httpStatus !== undefined || e?.errcode)
      return `${e.httpStatus ?? "?"} ${e.errcode ?? ""} ${clip(e.data?.error ?? e.message, 200)}`.replace(/\s+/g, " ");
   return e?.message ?? String(e);
}

// ---------------------------------------------------------------------------------------------
// Checks

const results = [];
const facts = {}; // what earlier checks established: synced, roomId, bobJoined

// Runs one named check. needs() returns why it cannot run (an earlier check's missing result) or
// null. The body returns nothing or an "ok" note; it throws to fail.
async function check(name, needs, body) {
   const missing = needs();
   if (missing || remaining() <= 0) {
      const why = missing ?? "the run's time budget was spent";
      results.push({ name, ok: false });
      say(`not ok - ${name} (not run: ${why})`);
      return;
   }
   const mark = answers.length;
   try {
      const note = await body();
      results.push({ name, ok: true });
      say(`ok - ${name}${note ? ` (${note})` : ""}`);
   } catch (e) {
      results.push({ name, ok: false });
      say(`not ok - ${name}: ${describeError(e)}`);
      printAnswers(answers.slice(mark));
      for (const r of unanswered) {
         const waited = Date.now() - r.started;
         if (waited > 1000 && !r.path.split("?")[0].endsWith("/sync")) // a /sync long poll waits by design
            say(`#   still unanswered: ${r.who}: ${r.method} ${r.path} (for ${(waited / 1000).toFixed(1)} s)`);
      }
      if (host && (host.exitCode !== null || host.signalCode !== null)) {
         say(`#   the host has exited (${host.signalCode ?? host.exitCode})`);
         printHostTail();
      }
   }
}

// The server's non-2xx answers during a check, one line per distinct method, path and status.
function printAnswers(list) {
   const seen = new Map();
   for (const a of list) {
      const key = `${a.method} ${a.path.split("?")[0]} ${a.status}`;
      const prior = seen.get(key);
      if (prior) prior.count += 1;
      else seen.set(key, { ...a, count: 1 });
   }
   let shown = 0;
   for (const a of seen.values()) {
      if (shown++ === 8) {
         say(`#   ... and ${seen.size - 8} more`);
         break;
      }
      const times = a.count > 1 ? ` (x${a.count})` : "";
      say(`#   server: ${a.who}: ${a.method} ${a.path} -> ${a.status}${times} ${a.body}`);
   }
}

const needSync = () => (facts.synced ? null : "the clients never synced");
const needRoom = () => needSync() ?? (facts.bobJoined ? null : "bob never joined alice's room");

// What the /sync answers to `who` carried for a room: used to say why an SDK event never came.
function roomSyncs(who, roomId, section = "join") {
   return syncs[who].map((s) => s.body?.rooms?.[section]?.[roomId]).filter(Boolean);
}

// The incremental /sync answers to `who` that carried timeline events it already had. A sync
// without a since token starts the client afresh (its first, or the first after a restart).
function redelivered(who) {
   const lines = [];
   let delivered = new Map(); // event ID -> type
   for (const { since, body } of syncs[who]) {
      if (!since) delivered = new Map();
      for (const [roomId, room] of Object.entries(body?.rooms?.join ?? {})) {
         const events = room.timeline?.events ?? [];
         const again = events.filter((e) => delivered.has(e.event_id));
         const fresh = events.filter((e) => !delivered.has(e.event_id));
         if (since && again.length)
            lines.push(`${who}'s /sync?since=${since} re-sent ${again.length} event(s) of ${roomId} ` +
                       `[${typesIn(again)}] with ${fresh.length} new one(s) [${fresh.map((e) => describeEvent(e)).join(", ")}], ` +
                       `limited=${room.timeline.limited}, state [${typesIn(room.state?.events ?? [])}]`);
         for (const e of events) delivered.set(e.event_id, e.type);
      }
   }
   return lines;
}

function describeEvent(e) {
   if (e.type !== "m.room.member") return e.type;
   return `m.room.member ${e.state_key} ${e.content?.membership}` +
          (e.content?.displayname ? ` "${e.content.displayname}"` : "");
}

function typesIn(list) {
   return [...new Set(list.map((e) => e?.type))].join(", ") || "none";
}

// ---------------------------------------------------------------------------------------------
// The clients and what they observe. Recorders are attached before the clients start, so no
// check can miss an event that arrived before it began to wait.

function makeClient(who, account) {
   return sdk.createClient({
      baseUrl,
      accessToken: account.access_token,
      userId: account.user_id,
      deviceId: account.device_id,
      timelineSupport: true, // as Element runs it
      fetchFn: recordingFetch(who),
   });
}

function observe(client) {
   const seen = { syncStates: [], syncError: null, timeline: [], typing: [], names: [], receipts: [], resets: 0 };
   client.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
      seen.syncStates.push(state);
      if (state === sdk.SyncState.Error) seen.syncError = data?.error;
   });
   client.on(sdk.RoomEvent.Timeline, (event, room, toStartOfTimeline) => {
      if (toStartOfTimeline || event.getType() !== "m.room.message") return;
      seen.timeline.push({ roomId: room?.roomId, id: event.getId(), content: event.getContent() });
   });
   client.on(sdk.RoomMemberEvent.Typing, (_event, member) => {
      seen.typing.push({ roomId: member.roomId, userId: member.userId, typing: member.typing });
   });
   client.on(sdk.RoomMemberEvent.Name, (_event, member) => {
      seen.names.push({ roomId: member.roomId, userId: member.userId, name: member.name });
   });
   client.on(sdk.RoomEvent.Receipt, (event, room) => {
      seen.receipts.push({ roomId: room.roomId, content: event.getContent() });
   });
   client.on(sdk.RoomEvent.TimelineReset, () => { seen.resets += 1; });
   return seen;
}

const isLive = (state) => state === sdk.SyncState.Prepared || state === sdk.SyncState.Syncing;

// Starts client and waits for its first PREPARED or SYNCING from now on.
async function startAndSync(who, client, seen) {
   const from = seen.syncStates.length;
   seen.syncError = null;
   await within(`${who}'s startClient`, client.startClient({ initialSyncLimit: SYNC_LIMIT }), 10_000);
   await until(`${who} reached no sync state PREPARED`, () => seen.syncStates.slice(from).some(isLive), 10_000, () => {
      const states = seen.syncStates.slice(from);
      return `${who}'s sync states: ${states.join(" -> ") || "none"}` +
             (seen.syncError ? `; last error: ${describeError(seen.syncError)}` : "");
   });
}

// ---------------------------------------------------------------------------------------------

async function register(name) {
   const r = await raw("POST", "/_matrix/client/v3/register", {
      body: { username: name, password: `pw-${name}-1234`, initial_device_display_name: `${name}'s test client`,
              auth: { type: "m.login.dummy" } },
   });
   if (r.status !== 200 || !r.json?.access_token)
      throw new Error(`register ${name}: ${r.status} ${clip(r.bytes.toString("utf8"))}`);
   return r.json;
}

async function main() {
   tempDir = mkdtempSync(path.join(tmpdir(), "chat-host-client-"));
   try {
      baseUrl = (await startHost(path.resolve(options.host), writeConfig(tempDir))).replace(/\/$/, "");
   } catch (e) {
      say(`not ok - start the chat host: ${e.message}`);
      printHostTail();
      return 2;
   }
   say(`# chat host at ${baseUrl}; matrix-js-sdk driving alice and bob`);

   let aliceAccount, bobAccount;
   try {
      aliceAccount = await register("alice");
      bobAccount = await register("bob");
   } catch (e) {
      say(`not ok - register alice and bob: ${e.message}`);
      return 1;
   }
   checksDeadline = Date.now() + CHECKS_BUDGET_MS;

   const alice = makeClient("alice", aliceAccount);
   const bob = makeClient("bob", bobAccount);
   const aliceSees = observe(alice);
   const bobSees = observe(bob);
   const aliceId = aliceAccount.user_id;
   const bobId = bobAccount.user_id;
   const inRoom = (list) => list.filter((x) => x.roomId === facts.roomId);

   try {
      await check("a. alice and bob reach sync state PREPARED", () => null, async () => {
         const started = await Promise.allSettled([startAndSync("alice", alice, aliceSees), startAndSync("bob", bob, bobSees)]);
         const failed = started.filter((s) => s.status === "rejected");
         if (failed.length) throw new StepFailed(failed.map((s) => describeError(s.reason)).join("; "));
         facts.synced = true;
      });

      await check("b. alice creates a room and invites bob; bob sees the invite, joins, and has the room's state",
                  needSync, async () => {
         const created = await within("createRoom", alice.createRoom({ name: "client test", preset: "private_chat" }));
         facts.roomId = created.room_id;
         const roomId = facts.roomId;
         await within("invite", alice.invite(roomId, bobId));
         await until("bob's client shows no room with membership \"invite\"",
                     () => bob.getRoom(roomId)?.getMyMembership() === "invite", STEP_MS,
                     () => `bob's /sync answers ${roomSyncs("bob", roomId, "invite").length ? "did" : "never"} carry ` +
                           `rooms.invite["${roomId}"]; bob's client has ${bob.getRoom(roomId) ? "the room with membership " +
                           bob.getRoom(roomId).getMyMembership() : "no such room"}`);
         await within("bob's joinRoom", bob.joinRoom(roomId));
         facts.bobJoined = true;
         await until("alice's room does not show 2 joined members", () => {
            const room = alice.getRoom(roomId);
            return room && room.getJoinedMembers().length === 2 && room.getJoinedMemberCount() === 2;
         }, STEP_MS, () => {
            const room = alice.getRoom(roomId);
            return room ? `joined members: [${room.getJoinedMembers().map((m) => m.userId).join(", ")}], ` +
                          `getJoinedMemberCount() = ${room.getJoinedMemberCount()}` : "alice's client has no such room";
         });
         await until("bob's room has no m.room.power_levels state event", () => {
            const room = bob.getRoom(roomId);
            return room?.getMyMembership() === "join" && room.currentState.getStateEvents("m.room.power_levels", "");
         }, STEP_MS, () => {
            const joins = roomSyncs("bob", roomId);
            return `bob's /sync answers for the room carried state types [${typesIn(joins.flatMap((j) => j.state?.events ?? []))}]` +
                   ` and timeline types [${typesIn(joins.flatMap((j) => j.timeline?.events ?? []))}]`;
         });
      });

      await check("c. alice's messages reach bob in order through RoomEvent.Timeline", needRoom, async () => {
         const ids = [];
         for (let i = 1; i <= 3; i++)
            ids.push((await within(`send message ${i}`, alice.sendTextMessage(facts.roomId, `in order ${i}`))).event_id);
         const got = () => inRoom(bobSees.timeline).filter((e) => ids.includes(e.id));
         await until("bob's timeline did not receive all 3", () => ids.every((id) => got().some((e) => e.id === id)),
                     STEP_MS, () => `bob got ${got().length} of 3`);
         const order = got().map((e) => e.content.body);
         if (order.join("|") !== "in order 1|in order 2|in order 3")
            throw new StepFailed(`bob received them as [${order.join(", ")}]`);
      });

      await check("j. bob's room counts unread notifications after alice's messages (before bob's receipt)", needRoom,
                  async () => {
         const room = bob.getRoom(facts.roomId);
         const count = await until("getUnreadNotificationCount() stayed 0",
                                   () => room.getUnreadNotificationCount(sdk.NotificationCountType.Total), STEP_MS, () => {
            const counts = roomSyncs("bob", facts.roomId).map((j) => j.unread_notifications).filter(Boolean);
            return counts.length ? `the last unread_notifications bob's /sync carried: ${JSON.stringify(counts.at(-1))}`
                                 : "no /sync answer to bob carried unread_notifications for the room";
         });
         return `count ${count}`;
      });

      await check(`d. a message containing "${BLOCKED_WORD}" is refused with spam_filter's error`, () => null, async () => {
         if (!facts.roomId)
            facts.ownRoom = (await within("createRoom", alice.createRoom({ name: "spam check" }))).room_id;
         const expected = { status: 403, errcode: "M_FORBIDDEN",
                            error: "This message has been rejected as probable spam (module 'spam_filter')" };
         const refusal = await within("send", alice.sendTextMessage(facts.roomId ?? facts.ownRoom, `Win the ${BLOCKED_WORD} today`)
            .then(() => null, (e) => e));
         if (!refusal) throw new StepFailed("sendMessage resolved: the server accepted the message");
         const got = { status: refusal.httpStatus, errcode: refusal.errcode, error: refusal.data?.error };
         if (JSON.stringify(got) !== JSON.stringify(expected))
            throw new StepFailed(`rejected with ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
      });

      await check(`e. a message containing "${MASKED_WORD}" reaches bob as room_rules rewrote it`, needRoom, async () => {
         const sent = await within("send", alice.sendTextMessage(facts.roomId, `Well, ${MASKED_WORD} it.`));
         const event = await until("bob's timeline did not receive it",
                                   () => inRoom(bobSees.timeline).find((e) => e.id === sent.event_id));
         const want = `Well, ${"*".repeat(MASKED_WORD.length)} it.`;
         if (event.content.body !== want || event.content["org.example.room_rules.masked"] !== 1)
            throw new StepFailed(`bob got ${JSON.stringify(event.content)}; expected body "${want}" and ` +
                                 "\"org.example.room_rules.masked\": 1");
      });

      await check("f. typing and read receipts: bob sees alice typing; alice sees bob's receipt", needRoom, async () => {
         const roomId = facts.roomId;
         await within("sendTyping", alice.sendTyping(roomId, true, 5000));
         await until("bob saw no RoomMember.typing for alice",
                     () => inRoom(bobSees.typing).some((t) => t.userId === aliceId && t.typing), STEP_MS, () => {
            const ephemeral = roomSyncs("bob", roomId).flatMap((j) => j.ephemeral?.events ?? []);
            return `bob's /sync answers carried ephemeral types [${typesIn(ephemeral)}] for the room`;
         });
         const last = bob.getRoom(roomId).getLiveTimeline().getEvents().filter((e) => e.getSender() === aliceId).at(-1);
         if (!last) throw new StepFailed("bob's live timeline holds no event from alice to acknowledge");
         await within("sendReadReceipt", bob.sendReadReceipt(last));
         const readBy = (r) => r.content?.[last.getId()]?.["m.read"]?.[bobId];
         await until(`alice saw no RoomEvent.Receipt from bob for ${last.getId()}`, () => inRoom(aliceSees.receipts).some(readBy),
                     STEP_MS, () => {
            const ephemeral = roomSyncs("alice", roomId).flatMap((j) => j.ephemeral?.events ?? []);
            return `alice's /sync answers carried ephemeral types [${typesIn(ephemeral)}] for the room`;
         });
         const event = alice.getRoom(roomId)?.findEventById(last.getId());
         const receipts = event ? alice.getRoom(roomId).getReceiptsForEvent(event) : [];
         if (!receipts.some((r) => r.userId === bobId && r.type === "m.read"))
            throw new StepFailed("the receipt arrived but room.getReceiptsForEvent() does not list bob's m.read");
      });

      await check("h. alice's new display name reaches bob's RoomMember", needRoom, async () => {
         const name = "Alice Liddell";
         await within("setDisplayName", alice.setDisplayName(name));
         await until(`bob saw no RoomMember.name "${name}" for alice`,
                     () => inRoom(bobSees.names).some((n) => n.userId === aliceId && n.name === name), STEP_MS, () => {
            const members = roomSyncs("bob", facts.roomId).flatMap((j) => j.timeline?.events ?? [])
               .filter((e) => e.type === "m.room.member" && e.state_key === aliceId);
            return `bob's /sync answers carried ${members.length} m.room.member event(s) for alice` +
                   (members.length ? `, the last with content ${JSON.stringify(members.at(-1).content)}` : "");
         });
      });

      await check(`g. after a gap of ${GAP_MESSAGES} messages bob's timeline is limited and back-pagination ` +
                  "recovers all of them in order", needRoom, async () => {
         const roomId = facts.roomId;
         // Bob's client keeps running; its next /sync waits while alice sends, so the sync after
         // the gap is an incremental one with more news than its timeline limit.
         const release = holdSyncs("bob");
         const bodies = [];
         for (let i = 1; i <= GAP_MESSAGES; i++) bodies.push(`gap ${i}`);
         const syncsBefore = syncs.bob.length;
         const resetsBefore = bobSees.resets;
         try {
            for (const body of bodies) await within(`send "${body}"`, alice.sendTextMessage(roomId, body));
         } finally {
            release();
         }
         const room = bob.getRoom(roomId);
         // The live timeline and the older ones back-pagination joined to it: when a page reaches
         // an event the client already held, the SDK links the two timelines instead of copying.
         const timelineEvents = () => {
            const all = [];
            for (let t = room.getLiveTimeline(); t; t = t.getNeighbouringTimeline(sdk.EventTimeline.BACKWARDS))
               all.unshift(...t.getEvents());
            return all;
         };
         const gapIn = () => timelineEvents()
            .filter((e) => e.getType() === "m.room.message" && bodies.includes(e.getContent().body))
            .map((e) => e.getContent().body);
         await until(`"gap ${GAP_MESSAGES}" did not reach bob's live timeline`, () => gapIn().includes(bodies.at(-1)));

         const problems = [];
         // The sync that carries the gap: the one with the last message (an earlier one may have
         // been answered with the first messages, before the gate held the next).
         const carrying = syncs.bob.slice(syncsBefore).find((s) => (s.body?.rooms?.join?.[roomId]?.timeline?.events ?? [])
            .some((e) => e.content?.body === bodies.at(-1)));
         const first = carrying?.body.rooms.join[roomId].timeline;
         if (carrying && !carrying.since) problems.push("the messages came in an initial /sync, not an incremental one");
         const liveBefore = gapIn().length;
         if (liveBefore >= GAP_MESSAGES)
            problems.push(`the live timeline already had all ${GAP_MESSAGES} (sync timeline: ${first?.events?.length} ` +
                          `events, limited=${first?.limited}): nothing was left to paginate`);
         if (first && (!first.limited || !first.prev_batch))
            problems.push(`the sync after the gap said limited=${first.limited}, prev_batch=${JSON.stringify(first.prev_batch)}`);

         // Back-paginate as a client scrolling up would, until all are there or nothing more comes.
         let stalled = 0;
         while (gapIn().length < GAP_MESSAGES && stalled < 2 && remaining() > 0) {
            const had = timelineEvents().length;
            try {
               await within("scrollback", bob.scrollback(room, 100));
            } catch (e) {
               problems.push(`scrollback failed: ${describeError(e)}`);
               break;
            }
            stalled = timelineEvents().length === had ? stalled + 1 : 0;
         }
         const got = gapIn();
         const missing = bodies.filter((b) => !got.includes(b));
         const duplicated = [...new Set(got.filter((b, i) => got.indexOf(b) !== i))];
         if (missing.length) problems.push(`missing after pagination: ${missing.length} (${missing.slice(0, 5).join(", ")}...)`);
         if (duplicated.length) problems.push(`duplicated: ${duplicated.slice(0, 5).join(", ")}`);
         if (!missing.length && !duplicated.length && got.join("|") !== bodies.join("|"))
            problems.push(`out of order: [${got.slice(0, 8).join(", ")}, ...]`);
         if (problems.length) throw new StepFailed(problems.join("; "));
         return `${liveBefore} live after the gap, ${GAP_MESSAGES - liveBefore} by pagination, ` +
                `${bobSees.resets - resetsBefore} timeline reset(s)`;
      });

      await check("i. an uploaded file downloads through mxcUrlToHttp without a token", () => null, async () => {
         const uploaded = await within("uploadContent", alice.uploadContent(PNG, { name: "dot.png", type: "image/png" }));
         const mxc = uploaded?.content_uri;
         if (!mxc?.startsWith("mxc://")) throw new StepFailed(`uploadContent answered ${JSON.stringify(uploaded)}`);
         const url = alice.mxcUrlToHttp(mxc);
         if (!url) throw new StepFailed(`mxcUrlToHttp(${mxc}) gave no URL`);
         const got = await raw("GET", url.slice(baseUrl.length), { binary: true });
         if (got.status !== 200) throw new StepFailed(`GET ${describePath(url)} without a token answered ${got.status}`);
         if (!got.bytes.equals(PNG))
            throw new StepFailed(`downloaded ${got.bytes.length} bytes that differ from the ${PNG.length} uploaded`);
         return `${mxc}, ${got.headers.get("content-type")}`;
      });

      await check("k. after alice's logout her old token answers 401 M_UNKNOWN_TOKEN", () => null, async () => {
         await within("logout", alice.logout(true));
         const r = await raw("GET", "/_matrix/client/v3/account/whoami", { token: aliceAccount.access_token });
         if (r.status !== 401 || r.json?.errcode !== "M_UNKNOWN_TOKEN")
            throw new StepFailed(`GET /_matrix/client/v3/account/whoami answered ${r.status} ${clip(r.bytes.toString("utf8"))}`);
      });

      await check("l. no event reaches a running client twice through /sync", needSync, async () => {
         const lines = [...redelivered("alice"), ...redelivered("bob")];
         if (lines.length) throw new StepFailed(lines.slice(0, 4).join("; ") + (lines.length > 4 ? "; ..." : ""));
      });
   } finally {
      alice.stopClient();
      bob.stopClient();
   }

   const failed = results.filter((r) => !r.ok);
   say(`# ${results.length - failed.length} of ${results.length} checks passed` +
       (failed.length ? `; failed: ${failed.map((r) => r.name.split(".")[0]).join(", ")}` : ""));
   return failed.length ? 1 : 0;
}

let status = 1;
try {
   status = await main();
} catch (e) {
   say(`not ok - the test itself failed: ${e?.stack ?? e}`);
   status = 1;
} finally {
   await stopHost();
}
process.exit(status);
