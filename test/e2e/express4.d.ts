// `express4` is express@4 installed under an alias for the Express 4 end-to-end run. Express 4
// and 5 share the API these tests use, so the Express 5 types describe it.
declare module 'express4' {
  import express from 'express'
  export default express
}
