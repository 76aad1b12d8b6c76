import { describeFiguresSuite } from "./figures-suite.ts";
import { pgliteBackend } from "./store-harness.ts";

describeFiguresSuite(pgliteBackend());
