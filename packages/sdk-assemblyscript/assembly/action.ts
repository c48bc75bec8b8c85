// What a phase handler tells the host to do next (docs/abi.md section 2).
export enum Action {
  /** Go on to the next filter or the route, with the changes made. */
  Continue = 0,
  /** Answer now with the reply given to respond(); later filters and the route do not run. */
  Respond = 1,
  /** Wait for the async operations started in this call; results arrive in onKvResult. */
  Pause = 2
}
