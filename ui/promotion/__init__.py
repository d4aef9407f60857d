"""The Promotion page's sections: candidate and checklist, review, history, signer, actions."""
