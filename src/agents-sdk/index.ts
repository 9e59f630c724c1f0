/**
 * `botbuilder-handoff-adapters/agents-sdk`: what needs the Microsoft 365 Agents SDK installed
 * (`@microsoft/agents-hosting`): the example support bot written on it. `AgentDialogs`, which runs
 * this package's dialogs from an agent, is in the root export (it needs no SDK of its own).
 */
export { AgentsSupportBot } from '../bot/agents-support-bot';
export { AgentDialogs, AGENT_DIALOG_STATE } from './agent-dialogs';
export { engineTurnOf, isAgentsSdkAgent, type AgentsSdkAgent } from './agents-sdk-bot';
