// @ts-check
/**
 * A typedoc plugin that groups the top level of the reference by module, from where
 * each export is declared: np, transforms, tree, random, nn, losses, optim, backends,
 * arrays and IR. An export's own `@group` tag wins. Loaded by typedoc.json.
 *
 * New exports need no tags: anything declared under src/random/ lands in "random",
 * under src/transforms/ in "transforms", and so on. A new top-level folder under
 * src/ gets a group named after the folder.
 */
import { relative, sep } from "node:path";
import { Comment, CommentTag, Converter } from "typedoc";

/** Group of a source path (relative to the repository, with `/`). */
const RULES = [
  [/^src\/numpy\//, "np"],
  [/^src\/transforms\//, "transforms"],
  [/^src\/core\/tree\.ts$/, "tree"],
  [/^src\/random(\/|\.ts$)/, "random"],
  [/^src\/nn(\/|\.ts$)/, "nn"],
  [/^src\/losses(\/|\.ts$)/, "losses"],
  [/^src\/optim(\/|\.ts$)/, "optim"],
  [/^src\/backends(\/|\.ts$)/, "backends"],
  [/^src\/core\/(array|dtype|shape)\.ts$/, "arrays"],
  [/^src\/(ir|interpreters|primitives|passes)\/|^src\/core\/trace\.ts$/, "IR"],
];

/** The order of the groups on the front page (see typedoc.json's groupOrder too). */
export const GROUP_ORDER = ["np", "transforms", "tree", "random", "nn", "losses", "optim", "backends", "export", "arrays", "IR"];

/** One-line descriptions shown under each group's heading. */
const DESCRIPTIONS = {
  np: "NumPy's API over cotangent arrays: creation, elementwise math, reductions, linear algebra and shapes. Every function works eagerly and under every transform.",
  transforms:
    "Functions that take a function and return a function: grad, vjp, jvp, linearize, vmap, jit, jacobians, custom rules and checkGrads. They compose to any depth.",
  tree: "Pytrees: nested arrays and objects of arrays, for parameters and gradients.",
  random: "Explicit-key pseudo-random numbers, as JAX's jax.random.",
  nn: "Functional neural-network helpers; parameters are pytrees.",
  losses: "Loss functions.",
  optim: "Optax-style pure optimizers and gradient clipping.",
  backends: "Choosing where arrays live and kernels run.",
  export: "Writing a jitted function out for other runtimes: ONNX models for ONNX Runtime (CPU, CUDA, TensorRT, Triton, browsers).",
  arrays: "The array type, its abstract value (shape and dtype) and dtypes.",
  IR: "The traced IR (jaxprs): its types, typechecker, evaluator and pictures.",
};

/** @param {string} fileName */
function groupOf(fileName) {
  const rel = relative(process.cwd(), fileName).split(sep).join("/");
  for (const [re, g] of RULES) if (re.test(rel)) return g;
  const m = /^src\/([^/.]+)/.exec(rel);
  return m ? m[1] : undefined;
}

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const child of context.project.children ?? []) {
      const hasGroup =
        child.comment?.blockTags.some((t) => t.tag === "@group") || child.signatures?.some((s) => s.comment?.blockTags.some((t) => t.tag === "@group"));
      if (hasGroup) continue;
      const symbol = context.getSymbolFromReflection(child);
      const decl = symbol?.declarations?.[0];
      const file = decl?.getSourceFile().fileName ?? child.sources?.[0]?.fullFileName;
      const group = file ? groupOf(file) : undefined;
      if (!group) continue;
      child.comment ??= new Comment();
      child.comment.blockTags.push(new CommentTag("@group", [{ kind: "text", text: group }]));
    }
  });
  // After GroupPlugin (priority -100) has built the groups: describe the top-level ones.
  app.converter.on(
    Converter.EVENT_RESOLVE_END,
    (context) => {
      for (const g of context.project.groups ?? []) {
        const d = DESCRIPTIONS[/** @type {keyof typeof DESCRIPTIONS} */ (g.title)];
        if (d && !g.description) g.description = [{ kind: "text", text: d }];
      }
    },
    -200,
  );
}
