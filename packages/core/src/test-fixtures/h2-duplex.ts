// A child process: an h2c server fed a connection that is not a libuv socket
// (`server.emit('connection', duplex)`, as PROXY-protocol parsers and
// in-process tunnels do), drained while a stream is open. Prints the outcome
// as one JSON line and exits 0, unless the drain killed the process.
import http2 from 'node:http2'
import { Duplex } from 'node:stream'
import { createGraceful } from '../graceful.js'

/** Two connected in-memory streams. */
function duplexPair (): [Duplex, Duplex] {
  const ends: Duplex[] = []
  const end = (other: () => Duplex) => new Duplex({
    read () {},
    write (chunk, _encoding, callback) { other().push(chunk); callback() },
    final (callback) { other().push(null); callback() },
  })
  ends.push(end(() => ends[1]!), end(() => ends[0]!))
  return [ends[0]!, ends[1]!]
}

const g = createGraceful({ signals: false, exit: false, logger: false })
let release!: () => void
const held = new Promise<void>((resolve) => { release = resolve })
const server = http2.createServer(g.handler((req, res) => {
  if (req.url === '/slow') void held.then(() => res.end('slow'))
  else res.end('fast')
}))
g.attach(server)
const [clientEnd, serverEnd] = duplexPair()
server.emit('connection', serverEnd)
const client = http2.connect('http://in-memory', { createConnection: () => clientEnd })
client.on('error', () => {})

function get (path: string): Promise<string> {
  return new Promise((resolve) => {
    const req = client.request({ ':path': path })
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { body += chunk })
    req.on('end', () => resolve(body))
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
}

const fast = await get('/fast')
const slow = get('/slow')
while (g.stats().inFlight < 1) await new Promise((resolve) => setImmediate(resolve))
const summary = g.shutdown()
setTimeout(release, 50)
const result = { fast, slow: await slow, outcome: (await summary).outcome }
client.destroy()
process.stdout.write(`${JSON.stringify(result)}\n`)
