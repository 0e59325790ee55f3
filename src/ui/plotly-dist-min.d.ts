// plotly.js-dist-min ships no types of its own; it is the plotly.js bundle, which @types/plotly.js describes.
declare module "plotly.js-dist-min" {
  import * as Plotly from "plotly.js";
  export default Plotly;
}
