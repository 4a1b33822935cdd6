select * from influencer_videos
