import type { AddressInfo } from 'node:net'
import express from 'express'
import express4 from 'express4'

/** Both supported majors, behind one type: the adapter must behave the same on each. */
export const frameworks = [
  { name: 'express 5', express },
  // The Express 4 typings differ in detail; the runtime under test is the real Express 4.
  { name: 'express 4', express: express4 as unknown as typeof express },
] as const

/** A running app on 127.0.0.1 and a `fetch` bound to it. */
export interface Running {
  readonly url: string
  request(path: string, init?: RequestInit): Promise<Response>
  close(): Promise<void>
}

export async function listen(app: express.Express): Promise<Running> {
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    request: (path, init) => fetch(url + path, init),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error) reject(error)
          else resolve()
        })
        server.closeAllConnections()
      }),
  }
}

export function bearer(token: string): RequestInit {
  return { headers: { authorization: `Bearer ${token}` } }
}
