-- chat_host_send.lua - the request bench/chat_host_rps.py has wrk repeat: one message send.
--
-- PUT /_matrix/client/v3/rooms/{room}/send/m.room.message/{txn} with a text body. Each request
-- has a transaction ID of its own: the chat host answers a repeated one from its idempotency
-- table without running the event pipeline, which is what is being measured. CHAT_ROOM (the
-- room ID, percent-encoded) and CHAT_TOKEN (an access token of a member) come from the driver.
--
-- Connections are kept alive, as clients keep them: the host writes each response in one piece
-- with TCP_NODELAY, so no delayed ACK stands between requests. CHAT_CLOSE=1 sends
-- "Connection: close" on every request instead, to measure a connection per request.
local room = os.getenv("CHAT_ROOM")
local token = os.getenv("CHAT_TOKEN")
if not room or not token then
   error("chat_host_send.lua: set CHAT_ROOM and CHAT_TOKEN")
end

-- wrk runs one Lua state per thread; setup numbers them, so transaction IDs never collide.
local threads = 0
function setup(thread)
   threads = threads + 1
   thread:set("thread_id", threads)
end

local sent = 0
wrk.method = "PUT"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
if os.getenv("CHAT_CLOSE") == "1" then
   wrk.headers["Connection"] = "close"
end
wrk.body = '{"msgtype": "m.text", "body": "hello from wrk"}'

function request()
   sent = sent + 1
   local path = "/_matrix/client/v3/rooms/" .. room .. "/send/m.room.message/wrk-" ..
                tostring(thread_id) .. "-" .. tostring(sent)
   return wrk.format(nil, path)
end
