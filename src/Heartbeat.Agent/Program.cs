using Heartbeat.Agent;

return await AgentCommand.InvokeAsync(args);
