select * from influencer_video_faces
