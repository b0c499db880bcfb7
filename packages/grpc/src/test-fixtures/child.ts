// A forked gRPC server with real signal handling, for the exit-within-budget test.
// Child → parent: { port } once bound.
import { createGraceful } from '@graceful/core'
import { attach } from '../index.js'
import { bind, echoServer } from './echo.js'

const graceful = createGraceful({ timeout: Number(process.env.TIMEOUT ?? 1500) })
const server = echoServer()
attach(graceful, server)
const port = await bind(server)
process.channel?.unref()
process.send?.({ port })
