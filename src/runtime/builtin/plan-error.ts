/**
 * The one error the plan compiler throws: a spec the built-in runtime cannot carry out (an unknown
 * capability, an unsupported feature). Its message is what the user sees from `create`.
 */
export class PlanError extends Error {
  override name = 'PlanError';
}
