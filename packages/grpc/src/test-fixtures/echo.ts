import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'

const definition = loadSync(fileURLToPath(new URL('./echo.proto', import.meta.url)))
const proto = grpc.loadPackageDefinition(definition) as unknown as {
  test: { Echo: grpc.ServiceClientConstructor }
}
export const Echo = proto.test.Echo
export interface Msg { text: string }

/**
 * The Echo service. `Unary` answers at once, or when `hold` settles for
 * `{ text: 'hold' }`, or never for `{ text: 'stuck' }`. `Numbers` streams one
 * message and stays open. `Chat` echoes and stays open.
 */
export function echoServer (hold: () => Promise<void> = () => Promise.resolve(), options?: grpc.ServerOptions): grpc.Server {
  const server = new grpc.Server(options)
  server.addService(Echo.service, {
    Unary: (call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
      if (call.request.text === 'stuck') return
      if (call.request.text === 'hold') void hold().then(() => callback(null, { text: 'held' }))
      else callback(null, { text: call.request.text })
    },
    Numbers: (call: grpc.ServerWritableStream<Msg, Msg>) => {
      call.write({ text: '1' })
    },
    Chat: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
      call.on('data', (message: Msg) => call.write(message))
    },
  })
  return server
}

export function bind (server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => error ? reject(error) : resolve(port))
  })
}
