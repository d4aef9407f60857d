"""The What-if page's sections: run and applicant pickers, the editor, its result, batch scoring."""
