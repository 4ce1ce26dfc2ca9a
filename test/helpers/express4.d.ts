// `express4` is an npm alias of express@4, used to run the integration suite on Express 4 too.
// Its API is the one @types/express describes for the parts the tests use.
declare module 'express4' {
  import express from 'express';
  export default express;
}
