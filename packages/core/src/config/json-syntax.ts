/**
 * A strict JSON scanner that finds the first syntax error and where it is, because V8's
 * JSON.parse does not always give a position. It also rejects duplicate keys, which
 * JSON.parse would silently resolve to the last one (YAML rejects them too).
 */
export function jsonSyntaxError (text: string): { offset: number, reason: string } | undefined {
  let i = 0
  const n = text.length
  const fail = (reason: string): never => { throw new SyntaxStop(i, reason) }
  const got = (): string => (i >= n ? 'the end of the file' : JSON.stringify(text.charAt(i)))
  const ws = (): void => { while (i < n && ' \t\n\r'.includes(text.charAt(i))) i++ }
  const expect = (ch: string, what: string): void => {
    ws()
    if (text.charAt(i) !== ch) fail(`expected ${what}, got ${got()}`)
    i++
  }

  const string = (): string => {
    const start = i
    i++
    while (i < n) {
      const c = text.charCodeAt(i)
      if (c === 0x22) return JSON.parse(text.slice(start, ++i)) as string
      if (c === 0x5c) {
        const e = text.charAt(i + 1)
        if (e !== '' && '"\\/bfnrt'.includes(e)) i += 2
        else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6
        else fail('invalid escape sequence in a string')
      } else if (c < 0x20) {
        fail('control character in a string (write it escaped, e.g. \\n)')
      } else {
        i++
      }
    }
    return fail('unterminated string')
  }

  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
  const value = (): void => {
    ws()
    const c = text.charAt(i)
    if (c === '{') {
      i++
      ws()
      if (text.charAt(i) === '}') { i++; return }
      const keys = new Set<string>()
      for (;;) {
        ws()
        const at = i
        if (text.charAt(i) !== '"') fail(`expected a double-quoted key, got ${got()}`)
        const key = string()
        if (keys.has(key)) { i = at; fail(`duplicate key ${JSON.stringify(key)}`) }
        keys.add(key)
        expect(':', '":" after a key')
        value()
        ws()
        if (text.charAt(i) === '}') { i++; return }
        expect(',', '"," or "}"')
      }
    }
    if (c === '[') {
      i++
      ws()
      if (text.charAt(i) === ']') { i++; return }
      for (;;) {
        value()
        ws()
        if (text.charAt(i) === ']') { i++; return }
        expect(',', '"," or "]"')
      }
    }
    if (c === '"') { string(); return }
    NUMBER.lastIndex = i
    const m = NUMBER.exec(text)
    if (m !== null && m[0] !== '' && m[0] !== '-') { i += m[0].length; return }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) { i += word.length; return }
    }
    fail(`expected a value, got ${got()}`)
  }

  try {
    value()
    ws()
    if (i < n) fail(`unexpected ${got()} after the end of the JSON value`)
    return undefined
  } catch (err) {
    if (err instanceof SyntaxStop) return { offset: err.offset, reason: err.reason }
    throw err
  }
}

class SyntaxStop {
  constructor (readonly offset: number, readonly reason: string) {}
}

/** 1-based line and column of a character offset. */
export function positionOf (text: string, offset: number): { line: number, column: number } {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return { line, column: offset - before.lastIndexOf('\n') }
}
