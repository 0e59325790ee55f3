/**
 * Let the browser paint and handle input before the next chunk of main-thread math. Framework runs every cell
 * that is ready in one go; a cell that awaits this first starts in a task of its own, so a page's pure-JS
 * computations (exact ODE paths, solver studies) never add up to one long frozen task.
 */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
