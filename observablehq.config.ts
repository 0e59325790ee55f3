// Observable Framework configuration for sCM Lab. Everything is bundled from node_modules so the site
// builds with no CDN (see ../shared/docs/framework-offline.md): no Google Fonts, no implicit npm: imports.
export default {
  title: "sCM Lab",
  root: "src",
  style: "style.css",
  globalStylesheets: [],
  // An empty icon stops browsers from requesting /favicon.ico, which would 404 and log a console error.
  head: '<link rel="icon" href="data:,">',
  pages: [
    { name: "TrigFlow and the probability-flow ODE", path: "/trigflow" },
    { name: "JVP and numerical stability", path: "/jvp" },
    { name: "Tangent normalization and the other stabilizers", path: "/stabilizers" },
    { name: "Continuous vs discrete consistency models", path: "/discrete" },
    { name: "Distillation vs training as the network grows", path: "/scaling" },
    { name: "Live training on CIFAR-10", path: "/cifar10" },
    { name: "Pretrained consistency models", path: "/pretrained" },
    { name: "Your browser and TF.js backend", path: "/backend" },
  ],
  pager: true,
  search: false,
  footer: "sCM Lab — an explorable of Lu & Song, “Simplifying, Stabilizing and Scaling Continuous-Time Consistency Models” (arXiv 2410.11081).",
};
