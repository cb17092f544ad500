// The contract suite runs against two majors of Express and Koa, installed under aliases; their default
// exports mirror the real packages' (the named-exports rule is for our own modules).
/* eslint-disable no-restricted-syntax */
declare module 'express4' {
  import express from 'express';
  export default express;
}
declare module 'koa2' {
  import Koa from 'koa';
  export default Koa;
}
