-- One request shape for wrk, set by bench/loadgen.py through the environment:
--   BENCH_METHOD     GET (default) or POST
--   BENCH_BODY_FILE  a file holding the request body (optional)
--   BENCH_HEADERS    "Name: value" lines
--   BENCH_UNIQUE     "1": each request gets its own body, "__N__" in it replaced by
--                    BENCH_PREFIX-<thread>-<counter> (unique subject ids, say)

wrk.method = os.getenv("BENCH_METHOD") or "GET"

local template = nil
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
  local file = assert(io.open(body_file, "rb"))
  template = file:read("*a")
  file:close()
  wrk.body = template
end

for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.-)%s*$")
  if name then
    wrk.headers[name] = value
  end
end

-- setup() runs in the main Lua state, once per thread, before the threads start.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

if os.getenv("BENCH_UNIQUE") == "1" and template then
  local prefix = os.getenv("BENCH_PREFIX") or "r"
  local counter = 0
  function request()
    counter = counter + 1
    local id = prefix .. "-" .. tostring(thread_id) .. "-" .. counter
    local body = template:gsub("__N__", id)
    return wrk.format(nil, nil, nil, body)
  end
end
