"""AI providers behind one interface: ProviderRouter.analyze(request) and .answer(conversation)."""
