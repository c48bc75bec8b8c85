#!/usr/bin/env node
// Writes docs/config.schema.json from the schema in packages/core/src/config/schema.ts.
// Build @wafer/core first (cd packages/core && npx tsc -p .); a test fails when the two differ.
// Usage: node scripts/config-schema.mjs
import { writeFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { configSchema } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href)
const out = join(root, 'docs/config.schema.json')
writeFileSync(out, JSON.stringify(configSchema, null, 2) + '\n')
console.log(`wrote ${out}`)
