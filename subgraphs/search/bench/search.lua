-- wrk script: POSTs semantic searches to the GraphQL endpoint, cycling through QUERIES; with
-- FILTER=1 every search is filtered by a tag (the section `utils`). Counts non-200 answers and
-- answers carrying GraphQL errors, and prints them at the end (a failed request is not a success).
-- No two requests in flight are the same document: a gateway runs identical concurrent subgraph
-- queries once (in-flight de-duplication), so with 30 texts at 16 connections it would measure
-- the sharing, not the search. Each text goes out under 16 aliases (same work, distinct bodies),
-- and each wrk thread starts at its own point of the cycle.
local queries = {
  "play chess against the computer", "edit photos and images", "compress files into an archive",
  "read email in the terminal", "a web browser", "music player for the desktop",
  "convert video formats", "monitor network traffic", "encrypt files with a password",
  "backup tool for servers", "spreadsheet application", "draw diagrams",
  "python library for http requests", "regular expression library", "compile C programs",
  "database server", "text editor for programmers", "download files from the internet",
  "manage virtual machines", "firewall configuration", "fonts for asian languages",
  "scientific plotting", "learn to type faster", "screen recorder",
  "remote desktop access", "spell checker dictionary", "3d modelling software",
  "podcast downloader", "markdown to html converter", "password manager",
}
local filtered = os.getenv("FILTER") == "1"
local aliases = 16
local bodies = {}
for a = 1, aliases do
  for _, q in ipairs(queries) do
    local filter = filtered and ', filter: {tags: [\\"utils\\"]}' or ""
    bodies[#bodies + 1] = '{"query":"{ hits' .. a .. ': search(text: \\"' .. q .. '\\", first: 10'
      .. filter .. ') { score highlight document { id title } } }"}'
  end
end
n = 0
failures = 0
local threads = {}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function setup(thread)
  table.insert(threads, thread)
  -- Threads apart by half the cycle (wrk runs at most 2 here).
  thread:set("n", (#threads - 1) * math.floor(#bodies / 2))
end

request = function()
  n = n % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[n])
end

response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    failures = failures + 1
  end
end

done = function(summary, latency, requests)
  local failed = summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
  end
  io.write(string.format("p50_ms %.3f\np99_ms %.3f\nrps %.1f\nerrors %d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), failed))
end
