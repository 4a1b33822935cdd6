select * from influencers
