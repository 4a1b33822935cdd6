select * from review_suggestions
