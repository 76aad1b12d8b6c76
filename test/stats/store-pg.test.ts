import { describeSurveyStoreContract } from "./store-contract.ts";
import { pgBackend } from "./store-harness.ts";

describeSurveyStoreContract(pgBackend());
