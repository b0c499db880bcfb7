import { Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify'
import { describe, expect, it } from 'vitest'
import { afterTest } from '@graceful/test-kit'
import { fastifyServerBindings } from './platform-internals.js'

// Fails on the Fastify release (under @nestjs/platform-fastify) that changes
// the field; the package then drains the main server only
// (platform-internals-fallback.test.ts). That the list fills with the extra
// servers of `localhost` is @graceful/fastify's fastify-internals.test.ts.
describe('what the package reads from a Nest platform', () => {
  it('finds the list of the extra servers Fastify binds (serverBindings) on the Fastify under Nest', async () => {
    class Bare {}
    Module({})(Bare)
    const app = await NestFactory.create<NestFastifyApplication>(Bare, new FastifyAdapter(), { logger: false, abortOnError: false })
    afterTest(() => app.close())
    expect(fastifyServerBindings(app.getHttpAdapter().getInstance())).toEqual([])
  })
})
